import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '@trellis/control';
import { configDir, eventually, startSidecar, type SidecarProcess } from '../e2e/harness.js';
import { closeAgents, upstream, type Upstream } from './helpers.js';

// DestinationRule traffic policies end to end: Istio YAML in a config folder -> `trellis control`'s
// translation -> ADS -> a real `trellis proxy` process (the compiled bin: run `npx tsc -b` first).
// Apps on 127.0.146.1-6, the client sidecar on 127.0.146.10.

const service = (name: string, apps: Upstream[]) => `
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec: { selector: { app: ${name} }, ports: [{ name: http, port: 8080 }] }
${apps
  .map(
    (u) => `---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: ${u.name}, namespace: default }
spec: { address: ${u.ip}, labels: { app: ${name} }, ports: { http: ${u.port} } }
`,
  )
  .join('')}`;

const RULES = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: sticky, namespace: default }
spec:
  host: sticky
  trafficPolicy:
    loadBalancer:
      consistentHash:
        httpHeaderName: x-user
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: flaky, namespace: default }
spec:
  host: flaky.default.svc.cluster.local
  trafficPolicy:
    outlierDetection:
      consecutive5xxErrors: 2
      interval: 50ms
      baseEjectionTime: 30s
      maxEjectionPercent: 100
`;

describe('DestinationRule policies through control plane and sidecar', () => {
  let sticky: Upstream[];
  let flaky: Upstream[];
  let config: Awaited<ReturnType<typeof configDir>>;
  let plane: ControlPlane;
  let sidecar: SidecarProcess;

  beforeAll(async () => {
    sticky = await Promise.all([1, 2, 3].map((i) => upstream(`sticky-${i}`, `127.0.146.${i}`)));
    flaky = await Promise.all([4, 5, 6].map((i) => upstream(`flaky-${i}`, `127.0.146.${i}`, { status: i === 4 ? 503 : 200 })));
    config = await configDir({ 'sticky.yaml': service('sticky', sticky), 'flaky.yaml': service('flaky', flaky), 'rules.yaml': RULES });
    plane = await ControlPlane.start({ configDir: config.dir, xdsHost: '127.0.0.1', xdsPort: 0, debugHost: '127.0.0.1', debugPort: 0, apiHost: '127.0.0.1', apiPort: 0, debounceMs: 50 });
    sidecar = await startSidecar('127.0.146.10', `127.0.0.1:${plane.xdsPort}`);
  }, 30_000);

  afterAll(async () => {
    closeAgents();
    await sidecar?.stop();
    await plane?.close();
    await Promise.all([...(sticky ?? []), ...(flaky ?? [])].map((u) => u.close()));
    await config?.remove();
  });

  it('consistentHash.httpHeaderName: each user sticks to one endpoint; /config_dump shows RING_HASH and the hash policy', async () => {
    await eventually('sticky reachable', async () => (await sidecar.call('sticky:8080')).status === 200);
    const placements = new Map<string, Set<string>>();
    for (let round = 0; round < 4; round++) {
      await Promise.all(
        Array.from({ length: 40 }, async (_, u) => {
          const r = await sidecar.call('sticky:8080', '/', { 'x-user': `user-${u}` });
          expect(r.status).toBe(200);
          const set = placements.get(`user-${u}`) ?? new Set<string>();
          set.add(r.body);
          placements.set(`user-${u}`, set);
        }),
      );
    }
    for (const set of placements.values()) expect(set.size).toBe(1);
    expect(new Set([...placements.values()].map((s) => [...s][0])).size).toBeGreaterThan(1);

    const dump = JSON.parse(await sidecar.adminText('/config_dump')) as { configs: { dynamic_active_clusters?: { cluster: Record<string, unknown> }[]; dynamic_route_configs?: unknown[] }[] };
    const cluster = dump.configs[0]!.dynamic_active_clusters!.map((c) => c.cluster).find((c) => c.name === 'outbound|8080||sticky.default.svc.cluster.local')!;
    expect(cluster.lb_policy).toBe('RING_HASH');
    expect(JSON.stringify(dump.configs[2]!.dynamic_route_configs)).toContain('"hash_policy":[{"header":{"header_name":"x-user"}');
  });

  it('outlierDetection: the endpoint answering 503 is ejected after 2 in a row and gets no more requests; /clusters shows it', async () => {
    const bad = flaky[0]!;
    await eventually('flaky reachable', async () => (await sidecar.call('flaky:8080')).status !== 404);
    // Enough requests for the bad endpoint to answer 503 twice in a row under any balancer.
    await eventually('ejection', async () => {
      await sidecar.call('flaky:8080');
      return (await sidecar.adminText('/clusters')).includes(`::${bad.ip}:${bad.port}::health_flags::/failed_outlier_check`);
    });
    const seen = bad.arrivals.length;
    for (let i = 0; i < 30; i++) expect((await sidecar.call('flaky:8080')).status).toBe(200);
    expect(bad.arrivals.length).toBe(seen);
    const stats = await sidecar.adminText('/stats?filter=flaky');
    expect(stats).toContain('cluster.outbound|8080||flaky.default.svc.cluster.local.outlier_detection.ejections_active: 1\n');
    const dump = JSON.parse(await sidecar.adminText('/config_dump')) as { configs: { dynamic_active_clusters?: { cluster: Record<string, unknown> }[] }[] };
    const cluster = dump.configs[0]!.dynamic_active_clusters!.map((c) => c.cluster).find((c) => c.name === 'outbound|8080||flaky.default.svc.cluster.local')!;
    expect(cluster.outlier_detection).toMatchObject({ consecutive_5xx: { value: 2 }, interval: { nanos: 50_000_000 }, max_ejection_percent: { value: 100 } });
  });
});
