import type { EnvoyJson } from '@trellis/envoy-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outlierDetection } from '../../../control/src/translate/cluster-policy.js';
import { startSidecar, type RunningSidecar } from '../dataplane/helpers/client.js';
import { listener, msDuration, routeConfig, snapshot, staticCluster, toCluster, vhost } from '../dataplane/helpers/resources.js';
import { call, closeAgents, many, tally, upstream, type Upstream } from './helpers.js';

// Outlier detection through a real sidecar. Upstreams on 127.0.143.1-18; the failing ones answer 503.

let proxy: RunningSidecar;
const ups: Record<string, Upstream> = {};

function od(fields: EnvoyJson, panicThreshold = 0): EnvoyJson {
  return {
    outlier_detection: { consecutive_5xx: { value: 3 }, enforcing_success_rate: { value: 0 }, max_ejection_percent: { value: 100 }, ...fields },
    common_lb_config: { healthy_panic_threshold: { value: panicThreshold } },
  };
}

const CLUSTERS: [string, string[], EnvoyJson][] = [
  // Ejection timing: 150 ms base, checked every 50 ms. (The backoff decays when a host that came back is not
  // ejected again within an interval, as in Envoy: 50 ms leaves a loaded test machine time for the 3 failures.)
  ['timing', ['t1', 't2', 't3'], od({ interval: msDuration(50), base_ejection_time: msDuration(150) })],
  // A long ejection to look at.
  ['long', ['l1', 'l2', 'l3'], od({ interval: msDuration(50), base_ejection_time: { seconds: 30 } })],
  ['max', ['m1', 'm2', 'm3', 'm4'], od({ interval: msDuration(50), base_ejection_time: { seconds: 30 }, max_ejection_percent: { value: 50 } })],
  // Istio's minHealthPercent 60 with 2 hosts: one ejection leaves 50% healthy, below it: panic.
  ['panic', ['p1', 'p2'], od({ interval: msDuration(50), base_ejection_time: { seconds: 30 } }, 60)],
  ['nopanic', ['p1', 'p2'], od({ interval: msDuration(50), base_ejection_time: { seconds: 30 } }, 0)],
  // Istio's maxEjectionPercent default (10) on 3 hosts, as the control plane translates it (with
  // always_eject_one_host), and the same without the flag: Envoy's 10% alone never ejects 1 of 3 (33%).
  ['istio10', ['i1', 'i2', 'i3'], istio({ consecutive5xxErrors: 3, interval: '50ms', baseEjectionTime: '30s' })],
  ['envoy10', ['e1', 'e2', 'e3'], od({ interval: msDuration(50), base_ejection_time: { seconds: 30 }, max_ejection_percent: { value: 10 } })],
];
const FAILING = new Set(['t1', 'l1', 'm1', 'm2', 'm3', 'm4', 'p1', 'i1', 'i2', 'e1', 'e2']);

/** A DestinationRule's outlierDetection through the control plane's own translation. */
function istio(spec: Parameters<typeof outlierDetection>[0]): EnvoyJson {
  return outlierDetection(spec);
}

beforeAll(async () => {
  const names = [...new Set(CLUSTERS.flatMap(([, hosts]) => hosts))];
  await Promise.all(
    names.map(async (n, i) => {
      ups[n] = await upstream(n, `127.0.143.${i + 1}`, { status: FAILING.has(n) ? 503 : 200 });
    }),
  );
  proxy = await startSidecar(config('1', 2000));
});

/** The clusters; `connectTimeoutMs` varies to make a config push that changes every cluster. */
function config(version: string, connectTimeoutMs: number) {
  return snapshot({
    version,
    listeners: [listener('virtualOutbound', 15001, 'r')],
    routes: [routeConfig('r', CLUSTERS.map(([name]) => vhost(name, [name], [toCluster({ prefix: '/' }, name)])))],
    clusters: CLUSTERS.map(([name, hosts, extra]) =>
      staticCluster(name, hosts.map((h) => ({ address: ups[h]!.ip, port: ups[h]!.port })), { lb: 'ROUND_ROBIN', connectTimeoutMs, extra }),
    ),
  });
}

afterAll(async () => {
  closeAgents();
  await proxy.close();
  await Promise.all(Object.values(ups).map((u) => u.close()));
});

async function admin(path: string): Promise<string> {
  const a = proxy.sidecar.adminAddress();
  return (await fetch(`http://${a.address}:${a.port}${path}`)).text();
}

const ejectedIn = (clusters: string, cluster: string) =>
  clusters.split('\n').filter((l) => l.startsWith(`${cluster}::`) && l.endsWith('::health_flags::/failed_outlier_check')).length;

/** Gaps between consecutive requests an upstream received that are longer than `minMs`. */
function gaps(u: Upstream, minMs: number): number[] {
  const out: number[] = [];
  for (let i = 1; i < u.arrivals.length; i++) {
    const g = u.arrivals[i]! - u.arrivals[i - 1]!;
    if (g > minMs) out.push(g);
  }
  return out;
}

describe('outlier detection', () => {
  it('ejects a 503ing endpoint after 3 in a row for base × n: the second ejection lasts twice as long (150 ms, then 300 ms; +interval 50 ms + 60 ms slack)', async () => {
    const t1 = ups.t1!;
    const deadline = performance.now() + 4000;
    // Keep traffic flowing (4 clients) until t1 has come back from two ejections.
    await many(4, 4, async () => {
      while (gaps(t1, 100).length < 2 && performance.now() < deadline) await call(proxy.port, 'timing');
    });
    const [first, second] = gaps(t1, 100);
    expect(first).toBeGreaterThanOrEqual(150);
    expect(first).toBeLessThan(150 + 50 + 60);
    expect(second).toBeGreaterThanOrEqual(300);
    expect(second).toBeLessThan(300 + 50 + 60);
    const stats = await admin('/stats?filter=^cluster\\.timing\\.outlier_detection');
    expect(stats).toMatch(/^cluster\.timing\.outlier_detection\.ejections_enforced_consecutive_5xx: [2-9]$/m);
  });

  it('an ejected endpoint gets no requests, also after a config push; /clusters and /stats show the ejection', async () => {
    const l1 = ups.l1!;
    // Round robin: 9 requests reach each endpoint 3 times, so l1 answers 503 three times in a row.
    for (let i = 0; i < 9; i++) await call(proxy.port, 'long');
    const seen = l1.arrivals.length;
    expect(seen).toBe(3);
    const answers = await many(60, 4, () => call(proxy.port, 'long'));
    expect(l1.arrivals.length).toBe(seen);
    expect(tally(answers.map((a) => `${a.status}`))).toEqual({ '200': 60 });
    const clusters = await admin('/clusters');
    expect(clusters).toContain(`long::${l1.ip}:${l1.port}::health_flags::/failed_outlier_check`);
    expect(ejectedIn(clusters, 'long')).toBe(1);
    const stats = await admin('/stats');
    expect(stats).toContain('cluster.long.outlier_detection.ejections_active: 1\n');
    expect(stats).toContain('cluster.long.outlier_detection.ejections_enforced_total: 1\n');
    expect(stats).toContain('cluster.long.membership_healthy: 2\n');
    // A config push that rebuilds the cluster keeps the ejection of the unchanged endpoint.
    proxy.sidecar.apply(config('2', 2500));
    await many(30, 4, () => call(proxy.port, 'long'));
    expect(l1.arrivals.length).toBe(seen);
    expect(ejectedIn(await admin('/clusters'), 'long')).toBe(1);
  });

  it('max_ejection_percent 50: of four failing endpoints only two are ejected (the rest are overflow)', async () => {
    await many(80, 4, () => call(proxy.port, 'max'));
    expect(ejectedIn(await admin('/clusters'), 'max')).toBe(2);
    const stats = await admin('/stats');
    expect(stats).toContain('cluster.max.outlier_detection.ejections_active: 2\n');
    expect(stats).toMatch(/^cluster\.max\.outlier_detection\.ejections_overflow: [1-9]\d*$/m);
  });

  it("Istio's default maxEjectionPercent 10 on 3 hosts (two answering 503): the first is ejected, the second is not (overflow); without always_eject_one_host neither is", async () => {
    expect(ejectedIn(await admin('/clusters'), 'istio10')).toBe(0);
    // Round robin over 3: 60 requests give each failing host 20 failures in a row (consecutive 3 trips).
    await many(60, 3, () => call(proxy.port, 'istio10'));
    await many(60, 3, () => call(proxy.port, 'envoy10'));
    const clusters = await admin('/clusters');
    expect(ejectedIn(clusters, 'istio10')).toBe(1);
    expect(ejectedIn(clusters, 'envoy10')).toBe(0);
    const stats = await admin('/stats');
    expect(stats).toContain('cluster.istio10.outlier_detection.ejections_active: 1\n');
    expect(stats).toMatch(/^cluster\.istio10\.outlier_detection\.ejections_overflow: [1-9]\d*$/m);
    expect(stats).toContain('cluster.envoy10.outlier_detection.ejections_active: 0\n');
    // After the ejection the healthy host and the one failing host that is left share the traffic.
    const after = tally((await many(40, 2, () => call(proxy.port, 'istio10'))).map((a) => a.upstream));
    expect(Object.keys(after).sort()).toHaveLength(2);
    expect(after.i3).toBe(20);
  });

  it('below the panic threshold (minHealthPercent 60) the ejected endpoint still gets traffic; with 0 it gets none', async () => {
    const p1 = ups.p1!;
    for (const cluster of ['panic', 'nopanic']) {
      for (let i = 0; i < 6; i++) await call(proxy.port, cluster);
      expect(ejectedIn(await admin('/clusters'), cluster)).toBe(1);
    }
    const before = p1.arrivals.length;
    const panic = tally((await many(100, 4, () => call(proxy.port, 'panic'))).map((a) => a.upstream));
    // Panic: both hosts, round robin (50 ± 5 each).
    expect(Math.abs((panic.p1 ?? 0) - 50)).toBeLessThanOrEqual(5);
    expect(p1.arrivals.length - before).toBe(panic.p1);
    const noPanic = tally((await many(100, 4, () => call(proxy.port, 'nopanic'))).map((a) => a.upstream));
    expect(noPanic).toEqual({ p2: 100 });
    expect(await admin('/stats')).toMatch(/^cluster\.panic\.lb_healthy_panic: [1-9]\d*$/m);
  });
});
