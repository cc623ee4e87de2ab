import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSidecar, type RunningSidecar } from '../dataplane/helpers/client.js';
import { listener, routeConfig, snapshot, toCluster, vhost } from '../dataplane/helpers/resources.js';
import { call, closeAgents, upstream, type Answer, type Upstream } from './helpers.js';

// Istio's PASSTHROUGH (an ORIGINAL_DST cluster with CLUSTER_PROVIDED): the request goes to the address
// it was meant for. Apps in local mode use the sidecar as an HTTP proxy, so that is the authority.
// Upstreams on 127.0.145.x.

let a: Upstream;
let b: Upstream;
let proxy: RunningSidecar;

beforeAll(async () => {
  a = await upstream('a', '127.0.145.1');
  b = await upstream('b', '127.0.145.2');
  const originalDst = (name: string, extra = {}) => ({ name, type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED', connect_timeout: { seconds: 1 }, ...extra });
  proxy = await startSidecar(
    snapshot({
      listeners: [listener('virtualOutbound', 15001, 'r')],
      routes: [
        routeConfig('r', [
          vhost('by-header', ['by-header'], [toCluster({ prefix: '/' }, 'header-dst')]),
          vhost('any', ['*'], [toCluster({ prefix: '/' }, 'PassthroughCluster')]),
        ]),
      ],
      clusters: [originalDst('PassthroughCluster'), originalDst('header-dst', { original_dst_lb_config: { use_http_header: true } })],
    }),
  );
});

afterAll(async () => {
  closeAgents();
  await proxy.close();
  await Promise.all([a.close(), b.close()]);
});

/** An HTTP-proxy-style request (absolute-form target), as an app configured with the sidecar as proxy sends. */
function viaProxy(target: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxy.port, path: target, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, upstream: String(res.headers['x-upstream'] ?? ''), headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('passthrough (ORIGINAL_DST)', () => {
  it('forwards to the IP and port the request names (absolute-form target or Host)', async () => {
    expect((await viaProxy(`http://${a.ip}:${a.port}/x`)).upstream).toBe('a');
    expect((await viaProxy(`http://${b.ip}:${b.port}/y`)).upstream).toBe('b');
    expect((await call(proxy.port, `${b.ip}:${b.port}`)).upstream).toBe('b');
    const clusters = await (await fetch(`http://127.0.0.1:${proxy.sidecar.adminAddress().port}/clusters`)).text();
    expect(clusters).toContain(`PassthroughCluster::${a.ip}:${a.port}::rq_total::1`);
  });

  it('answers 503 UH when the destination is not an IP literal', async () => {
    proxy.logs.length = 0;
    const r = await call(proxy.port, 'not-an-ip.example:8080');
    expect([r.status, r.body]).toEqual([503, 'no healthy upstream']);
    expect(proxy.logs.at(-1)?.responseFlagsString).toBe('UH');
  });

  it('with use_http_header, x-envoy-original-dst-host names the destination; an invalid one gets 503 UH', async () => {
    expect((await call(proxy.port, 'by-header', '/', { headers: { 'x-envoy-original-dst-host': `${a.ip}:${a.port}` } })).upstream).toBe('a');
    expect((await call(proxy.port, 'by-header', '/', { headers: { 'x-envoy-original-dst-host': `${b.ip}:${b.port}` } })).upstream).toBe('b');
    expect((await call(proxy.port, 'by-header', '/', { headers: { 'x-envoy-original-dst-host': 'nonsense' } })).status).toBe(503);
  });
});
