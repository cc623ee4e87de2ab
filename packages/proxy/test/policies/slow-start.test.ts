import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSidecar, type RunningSidecar } from '../dataplane/helpers/client.js';
import { listener, routeConfig, snapshot, staticCluster, toCluster, vhost } from '../dataplane/helpers/resources.js';
import { call, closeAgents, many, tally, upstream, type Upstream } from './helpers.js';

// Slow start (Istio's warmup) through a real sidecar: an endpoint that joins an existing cluster ramps up.
// Upstreams on 127.0.147.x.

let ups: Upstream[];
let proxy: RunningSidecar;

function config(hosts: Upstream[], version: string) {
  const slowStart = { slow_start_config: { slow_start_window: { seconds: 30 }, min_weight_percent: { value: 10 } } };
  return snapshot({
    version,
    listeners: [listener('virtualOutbound', 15001, 'r')],
    routes: [routeConfig('r', [vhost('rr', ['rr'], [toCluster({ prefix: '/' }, 'rr')])])],
    clusters: [staticCluster('rr', hosts.map((u) => ({ address: u.ip, port: u.port })), { lb: 'ROUND_ROBIN', extra: { round_robin_lb_config: slowStart } })],
  });
}

beforeAll(async () => {
  ups = await Promise.all([1, 2, 3].map((i) => upstream(`u${i}`, `127.0.147.${i}`)));
  proxy = await startSidecar(config(ups.slice(0, 2), '1'));
});

afterAll(async () => {
  closeAgents();
  await proxy.close();
  await Promise.all(ups.map((u) => u.close()));
});

describe('slow start', () => {
  it('the endpoints a cluster starts with share equally; one that joins later gets min_weight_percent of its share at first', async () => {
    expect(tally((await many(100, 4, () => call(proxy.port, 'rr'))).map((a) => a.upstream))).toEqual({ u1: 50, u2: 50 });
    proxy.sidecar.apply(config(ups, '2'));
    const counts = tally((await many(420, 4, () => call(proxy.port, 'rr'))).map((a) => a.upstream));
    // Weights 1 : 1 : ~0.1 (30 s window, a fraction of a second in): u3 gets about 0.1 / 2.1 ≈ 5%.
    expect(counts.u3).toBeGreaterThan(0);
    expect(counts.u3! / 420).toBeLessThan(0.1);
    expect(Math.abs(counts.u1! - counts.u2!)).toBeLessThanOrEqual(2);
  });
});
