import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { ControlPlane } from '../../src/control-plane.js';
import { grpcCodeName } from '../../src/xds/metrics.js';
import { eventually, metricValue, sidecarNode, startHarness, type Harness } from './fixtures.js';

// istiod's xDS metrics that the protocol and push tests don't cover: per-type reject gauges (node, err),
// internal errors, pushed config sizes, and the mesh-size gauges on a real control plane's /metrics.

const nodeId = (pod: string) => sidecarNode(pod).id;

describe('control plane metrics', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a NACK sets pilot_xds_<type>_reject{node, err} to 1 until that proxy ACKs that type again', async () => {
    h = await startHarness();
    const c = h.connect('reviews-v1-0');
    c.subscribe('cluster');
    const v1 = await c.next();
    c.ack(v1);
    h.mesh.generation = 2;
    h.server.pushNow('config');
    const v2 = await c.next();
    c.nack(v2, v1.version_info, 'bad cluster'); // gRPC code 3
    const node = nodeId('reviews-v1-0');
    await eventually(async () => (await metricValue(h!.registry, 'pilot_xds_cds_reject', { node, err: 'InvalidArgument' })) === 1);
    expect(await metricValue(h.registry, 'pilot_total_xds_rejects', { type: 'cds' })).toBe(1);
    // Other types are untouched.
    expect((await h.registry.getSingleMetric('pilot_xds_lds_reject')!.get()).values).toEqual([]);

    h.mesh.generation = 3;
    h.server.pushNow('config');
    c.ack(await c.next());
    await eventually(async () => (await h!.registry.getSingleMetric('pilot_xds_cds_reject')!.get()).values.length === 0);
  });

  it("a proxy's reject series go when it disconnects", async () => {
    h = await startHarness();
    const c = h.connect('ratings-v1-0');
    c.subscribe('listener');
    const r = await c.next();
    c.nack(r, '', 'no listener for you');
    await eventually(async () => (await h!.registry.getSingleMetric('pilot_xds_lds_reject')!.get()).values.length === 1);
    c.close();
    await eventually(async () => (await metricValue(h!.registry, 'pilot_xds')) === 0);
    expect((await h.registry.getSingleMetric('pilot_xds_lds_reject')!.get()).values).toEqual([]);
  });

  it('resources that fail to encode count as internal errors; config sizes are observed per type', async () => {
    h = await startHarness();
    h.mesh.broken.add('outbound|9080||ratings.default.svc.cluster.local');
    const c = h.connect('reviews-v1-0');
    c.subscribe('cluster');
    const cds = await c.next();
    expect(cds.resources).toHaveLength(1);
    expect(await metricValue(h.registry, 'pilot_total_xds_internal_errors')).toBe(1);
    const size = (await h.registry.getSingleMetric('pilot_xds_config_size_bytes')!.get()).values;
    const sample = (suffix: string) => size.find((v: any) => v.metricName === `pilot_xds_config_size_bytes_${suffix}` && v.labels.type === 'cds')?.value;
    expect(sample('count')).toBe(1);
    expect(sample('sum')).toBe(cds.resources[0]!.value.length);
  });

  it('gRPC code names are Go\'s (what istiod prints)', () => {
    expect([grpcCodeName(0), grpcCodeName(3), grpcCodeName(13), grpcCodeName(99)]).toEqual(['OK', 'InvalidArgument', 'Internal', 'Code(99)']);
  });

  it('a real control plane serves pilot_services and pilot_virt_services on /metrics, and the text parses', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trellis-cp-metrics-'));
    await writeFile(
      join(dir, 'mesh.yaml'),
      `apiVersion: v1
kind: Service
metadata: { name: a, namespace: default }
spec: { selector: { app: a }, ports: [{ name: http, port: 80 }] }
---
apiVersion: v1
kind: Service
metadata: { name: b, namespace: default }
spec: { selector: { app: b }, ports: [{ name: http, port: 80 }] }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: a, namespace: default }
spec: { hosts: [a], http: [{ route: [{ destination: { host: a } }] }] }
`,
    );
    const plane = await ControlPlane.start({ configDir: dir, xdsHost: '127.0.180.1', xdsPort: 0, debugHost: '127.0.180.1', debugPort: 0, apiPort: 0 });
    try {
      const text = await (await fetch(`http://127.0.180.1:${plane.debugPort}/metrics`)).text();
      const families = new Map((parsePrometheusTextFormat(text) as any[]).map((f) => [f.name, f]));
      expect(Number(families.get('pilot_services').metrics[0].value)).toBe(2);
      expect(Number(families.get('pilot_virt_services').metrics[0].value)).toBe(1);
      expect(Number(families.get('pilot_xds').metrics[0].value)).toBe(0);
      for (const name of ['pilot_xds_pushes', 'pilot_xds_push_time', 'pilot_proxy_convergence_time', 'pilot_total_xds_rejects', 'pilot_xds_eds_reject', 'trellis_config_errors']) {
        expect(families.has(name), name).toBe(true);
      }
    } finally {
      await plane.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
