import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSidecar, type RunningSidecar } from '../dataplane/helpers/client.js';
import { listener, routeConfig, snapshot, staticCluster, toCluster, vhost } from '../dataplane/helpers/resources.js';
import { call, closeAgents, many, tally, upstream, type Upstream } from './helpers.js';

// LEAST_REQUEST (power of two choices on active requests) against ROUND_ROBIN over the same four
// upstreams (127.0.142.1-4), one of them slow.

let ups: Upstream[];
let proxy: RunningSidecar;

beforeAll(async () => {
  ups = await Promise.all([1, 2, 3, 4].map((i) => upstream(`u${i}`, `127.0.142.${i}`, { delayMs: i === 1 ? 60 : 0 })));
  const endpoints = ups.map((u) => ({ address: u.ip, port: u.port }));
  proxy = await startSidecar(
    snapshot({
      listeners: [listener('virtualOutbound', 15001, 'r')],
      routes: [routeConfig('r', [vhost('lr', ['lr'], [toCluster({ prefix: '/' }, 'lr')]), vhost('rr', ['rr'], [toCluster({ prefix: '/' }, 'rr')])])],
      clusters: [staticCluster('lr', endpoints, { lb: 'LEAST_REQUEST' }), staticCluster('rr', endpoints, { lb: 'ROUND_ROBIN' })],
    }),
  );
});

afterAll(async () => {
  closeAgents();
  await proxy.close();
  await Promise.all(ups.map((u) => u.close()));
});

/** Share of `n` requests (16 concurrent clients) that the slow upstream served. */
async function slowShare(host: string, n: number): Promise<number> {
  const answers = await many(n, 16, () => call(proxy.port, host));
  expect(answers.every((a) => a.status === 200)).toBe(true);
  return (tally(answers.map((a) => a.upstream)).u1 ?? 0) / n;
}

describe('least request', () => {
  it('sends a slow endpoint far fewer requests than round robin does (16 concurrent clients, 600 requests each way)', async () => {
    const rr = await slowShare('rr', 600);
    const lr = await slowShare('lr', 600);
    // Round robin ignores load: a quarter (± 4 points). Least request sees the slow host's requests pile
    // up and avoids it whenever the other sampled host is less busy: well under half of that share.
    expect(Math.abs(rr - 0.25)).toBeLessThan(0.04);
    expect(lr).toBeLessThan(rr / 2);
    expect(lr).toBeGreaterThan(0);
  });
});
