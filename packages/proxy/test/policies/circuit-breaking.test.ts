import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { circuitBreakers, httpProtocolOptions } from '../../../control/src/translate/cluster-policy.js';
import { startSidecar, type RunningSidecar } from '../dataplane/helpers/client.js';
import { listener, routeConfig, snapshot, staticCluster, toCluster, vhost } from '../dataplane/helpers/resources.js';
import { call, closeAgents, many, tally, upstream, type Upstream } from './helpers.js';

// Istio's circuit-breaking task through a real sidecar: the DestinationRule's connectionPool, translated by
// the control plane's own functions, on upstreams at 127.0.144.x.

let httpbin: Upstream;
let slow: Upstream;
let proxy: RunningSidecar;

// Istio's task: maxConnections 1, http1MaxPendingRequests 1, maxRequestsPerConnection 1.
const TASK_POOL = { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 } };
const MAX_REQUESTS_POOL = { http: { http2MaxRequests: 2 } };

beforeAll(async () => {
  httpbin = await upstream('httpbin', '127.0.144.1', { delayMs: 2 });
  slow = await upstream('slow', '127.0.144.2', { delayMs: 150 });
  proxy = await startSidecar(
    snapshot({
      listeners: [listener('virtualOutbound', 15001, 'r')],
      routes: [routeConfig('r', [vhost('httpbin', ['httpbin'], [toCluster({ prefix: '/' }, 'cb')]), vhost('slow', ['slow'], [toCluster({ prefix: '/' }, 'mr')])])],
      clusters: [
        staticCluster('cb', [{ address: httpbin.ip, port: httpbin.port }], { lb: 'LEAST_REQUEST', extra: { ...circuitBreakers(TASK_POOL), ...httpProtocolOptions('HTTP', TASK_POOL) } }),
        staticCluster('mr', [{ address: slow.ip, port: slow.port }], { lb: 'LEAST_REQUEST', extra: circuitBreakers(MAX_REQUESTS_POOL) }),
      ],
    }),
  );
});

afterAll(async () => {
  closeAgents();
  await proxy.close();
  await Promise.all([httpbin.close(), slow.close()]);
});

async function stats(filter: string): Promise<string> {
  const a = proxy.sidecar.adminAddress();
  return (await fetch(`http://${a.address}:${a.port}/stats?filter=${encodeURIComponent(filter)}`)).text();
}

const statValue = (text: string, name: string) => Number(new RegExp(`^${name.replace(/[.|]/g, '\\$&')}: (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);

describe("circuit breaking (Istio's task)", () => {
  it('3 concurrent clients x 30 requests: some 503 UO, the rest 200; upstream_rq_pending_overflow equals the 503s', async () => {
    proxy.logs.length = 0;
    const answers = (await Promise.all([0, 1, 2].map(() => many(30, 1, () => call(proxy.port, 'httpbin'))))).flat();
    const byStatus = tally(answers.map((a) => String(a.status)));
    expect(Object.keys(byStatus).sort()).toEqual(['200', '503']);
    // One request active and one pending at a time: whoever asks while both are taken gets a 503 at once, so
    // the split varies (25-30 of 90 served, typically); at least 10 always are.
    expect(byStatus['200']).toBeGreaterThanOrEqual(10);
    const rejected = answers.filter((a) => a.status === 503);
    for (const a of rejected) {
      expect(a.body).toBe('upstream connect error or disconnect/reset before headers. reset reason: overflow');
      expect(a.upstream).toBe('');
      expect(a.headers['x-envoy-overloaded']).toBe('true');
    }
    const logged = proxy.logs.filter((l) => l.responseCode === 503);
    expect(logged.map((l) => l.responseFlagsString)).toEqual(rejected.map(() => 'UO'));
    // What `pilot-agent request GET stats | grep httpbin | grep pending` shows in the task.
    const pending = await stats('^cluster\\.cb\\..*pending');
    expect(statValue(pending, 'cluster.cb.upstream_rq_pending_overflow')).toBe(rejected.length);
    expect(statValue(pending, 'cluster.cb.upstream_rq_pending_active')).toBe(0);
    expect(statValue(pending, 'cluster.cb.circuit_breakers.default.remaining_pending')).toBe(1);
    // One connection at a time, one request per connection.
    expect(httpbin.connections.maxOpen).toBe(1);
    expect(httpbin.connections.total).toBe(byStatus['200']);
  });

  it('max_requests (http2MaxRequests 2): of 6 concurrent slow requests 2 are served, 4 overflow at once', async () => {
    const started = performance.now();
    const answers = await many(6, 6, () => call(proxy.port, 'slow'));
    expect(tally(answers.map((a) => String(a.status)))).toEqual({ '200': 2, '503': 4 });
    expect(performance.now() - started).toBeLessThan(1000);
    const text = await stats('^cluster\\.mr\\.');
    expect(statValue(text, 'cluster.mr.upstream_rq_pending_overflow')).toBe(4);
    expect(statValue(text, 'cluster.mr.upstream_rq_total')).toBe(2);
    expect(statValue(text, 'cluster.mr.upstream_rq_active')).toBe(0);
  });
});
