import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResponseFlag } from '../../src/http/stream-info.js';
import { rawExchange, request, startSidecar, type RunningSidecar } from './helpers/client.js';
import { cla, edsCluster, listener, routeConfig, snapshot, staticCluster, toCluster, toWeighted, vhost } from './helpers/resources.js';
import { closedPort, echoServer, type Echo, type TestServer } from './helpers/servers.js';

let a: TestServer, b: TestServer, c: TestServer, slow: TestServer, dropper: TestServer;
let rr: TestServer[];
let proxy: RunningSidecar;

beforeAll(async () => {
  [a, b, c] = await Promise.all([echoServer('a'), echoServer('b'), echoServer('c')]);
  rr = await Promise.all([echoServer('rr0'), echoServer('rr1'), echoServer('rr2')]);
  slow = await echoServer('slow', (_req, res) => setTimeout(() => res.end('late'), 1500));
  // Drops the connection: before any response for /before, after the headers and some body for /after.
  dropper = await echoServer('dropper', (req, res) => {
    if (req.url === '/uc/before') return req.socket.destroy();
    res.writeHead(200, { 'content-length': '100' });
    res.write('partial');
    setTimeout(() => req.socket.destroy(), 20);
  });
  const refused = await closedPort();
  const routes = routeConfig('outbound', [
    vhost('reviews', ['reviews', 'reviews:9080', 'reviews.default.svc.cluster.local:9080'], [
      toCluster({ prefix: '/', headers: [{ name: 'end-user', string_match: { exact: 'jason' } }] }, 'b'),
      toCluster({ prefix: '/v2' }, 'b'),
      toCluster({ safe_regex: { regex: '/api/v[0-9]+/items' } }, 'c'),
      toCluster({ prefix: '/', query_parameters: [{ name: 'debug', string_match: { exact: '1' } }] }, 'c'),
      toCluster({ prefix: '/', headers: [{ name: ':method', string_match: { exact: 'DELETE' } }] }, 'c'),
      toCluster({ prefix: '/' }, 'a'),
    ]),
    vhost('hello', ['hello.canary:8080'], [toWeighted({ prefix: '/' }, [['a', 90], ['b', 10]])]),
    vhost('wild-suffix', ['*.wild.com'], [toCluster({ prefix: '/' }, 'c')]),
    vhost('wild-prefix', ['prefix.*'], [toCluster({ prefix: '/' }, 'b')]),
    vhost('local', ['local'], [
      { match: { path: '/hi' }, direct_response: { status: 200, body: { inline_string: 'hello from the route' } } },
      { match: { prefix: '/old' }, redirect: { prefix_rewrite: '/new', response_code: 'FOUND', host_redirect: 'elsewhere' } },
    ]),
    vhost('errors', ['errors'], [
      toCluster({ prefix: '/uh' }, 'empty'),
      toCluster({ prefix: '/nc' }, 'does-not-exist'),
      toCluster({ prefix: '/uf' }, 'refused'),
      toCluster({ prefix: '/ut' }, 'slow', { timeout: { nanos: 200_000_000 } }),
      toCluster({ prefix: '/uc' }, 'dropper'),
    ]),
    vhost('rr', ['rr'], [toCluster({ prefix: '/' }, 'rr')]),
    vhost('edits', ['edits'], [
      toCluster({ prefix: '/' }, 'inbound', { prefix_rewrite: '/rewritten/' }, {
        request_headers_to_add: [{ header: { key: 'x-added', value: 'route' } }],
        request_headers_to_remove: ['x-secret'],
        response_headers_to_add: [{ header: { key: 'x-resp', value: 'yes' } }],
      }),
    ]),
  ]);
  proxy = await startSidecar(
    snapshot({
      listeners: [listener('virtualOutbound', 15001, 'outbound')],
      routes: [routes],
      clusters: [
        edsCluster('a'),
        edsCluster('b'),
        edsCluster('c'),
        edsCluster('empty'),
        edsCluster('rr'),
        staticCluster('refused', [{ port: refused }], { connectTimeoutMs: 1000 }),
        staticCluster('slow', [{ port: slow.port }]),
        staticCluster('dropper', [{ port: dropper.port }]),
        staticCluster('inbound', [{ port: a.port, targetPort: 9080 }]),
      ],
      endpoints: [
        cla('a', [{ port: a.port }]),
        cla('b', [{ port: b.port }]),
        cla('c', [{ port: c.port }]),
        cla('rr', rr.map((s) => ({ port: s.port }))),
      ],
    }),
  );
});

afterAll(async () => {
  await proxy.close();
  await Promise.all([a, b, c, slow, dropper, ...rr].map((s) => s.close()));
});

const echo = (body: string) => JSON.parse(body) as Echo;

describe('virtual host selection', () => {
  it('routes by Host, with and without port', async () => {
    expect(echo((await request(proxy.port, '/', { headers: { host: 'reviews' } })).body).name).toBe('a');
    expect(echo((await request(proxy.port, '/', { headers: { host: 'reviews:9080' } })).body).name).toBe('a');
    expect(echo((await request(proxy.port, '/', { headers: { host: 'REVIEWS.default.svc.cluster.local:9080' } })).body).name).toBe('a');
  });

  it('routes absolute-form requests by the URI authority and forwards origin-form', async () => {
    const r = await request(proxy.port, 'http://hello.canary:8080/greet?x=1', { headers: { host: 'ignored' } });
    expect(r.status).toBe(200);
    const e = echo(r.body);
    expect(['a', 'b']).toContain(e.name);
    expect(e.url).toBe('/greet?x=1');
    expect(e.headers.host).toBe('hello.canary:8080');
  });

  it("follows Envoy's wildcard rules and 404s an unknown host with NR", async () => {
    expect(echo((await request(proxy.port, '/', { headers: { host: 'api.wild.com' } })).body).name).toBe('c');
    expect(echo((await request(proxy.port, '/', { headers: { host: 'prefix.anything' } })).body).name).toBe('b');
    // the wildcard must match at least one character
    const bare = await request(proxy.port, '/', { headers: { host: '.wild.com' } });
    expect(bare.status).toBe(404);
    const unknown = await request(proxy.port, '/', { headers: { host: 'nobody' } });
    expect(unknown.status).toBe(404);
    const info = proxy.logs.find((l) => l.responseCode === 404 && l.virtualHostName === '');
    expect(info?.hasFlag(ResponseFlag.NR)).toBe(true);
  });
});

describe('route matching', () => {
  it('matches headers, prefixes, regexes, query parameters and :method in order', async () => {
    const to = async (path: string, headers: http.OutgoingHttpHeaders = {}, method = 'GET') =>
      echo((await request(proxy.port, path, { headers: { host: 'reviews', ...headers }, method })).body).name;
    expect(await to('/anything', { 'end-user': 'jason' })).toBe('b');
    expect(await to('/anything', { 'end-user': 'mary' })).toBe('a');
    expect(await to('/v2/x')).toBe('b');
    expect(await to('/api/v12/items')).toBe('c');
    expect(await to('/api/v12/items/extra')).toBe('a'); // regex is a full match
    expect(await to('/api/v12/items?page=2')).toBe('c'); // regex ignores the query string
    expect(await to('/q?debug=1')).toBe('c');
    expect(await to('/q?debug=2')).toBe('a');
    expect(await to('/m', {}, 'DELETE')).toBe('c');
  });
});

describe('weighted clusters and load balancing', () => {
  it('splits 90/10 within ±3 points over 2000 requests', async () => {
    const counts = { a: 0, b: 0 } as Record<string, number>;
    const N = 2000;
    for (let i = 0; i < N; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => request(proxy.port, '/', { headers: { host: 'hello.canary:8080' } })));
      for (const r of batch) counts[echo(r.body).name]!++;
    }
    expect(counts.a! + counts.b!).toBe(N);
    expect(Math.abs((100 * counts.a!) / N - 90)).toBeLessThanOrEqual(3);
  });

  it('spreads round robin evenly over three endpoints', async () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const name = echo((await request(proxy.port, '/', { headers: { host: 'rr' } })).body).name;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['rr0', 'rr1', 'rr2']);
    for (const n of counts.values()) expect(n).toBe(100);
  });
});

describe('local replies', () => {
  it('answers direct_response and redirect routes itself', async () => {
    const hi = await request(proxy.port, '/hi', { headers: { host: 'local' } });
    expect(hi.status).toBe(200);
    expect(hi.body).toBe('hello from the route');
    expect(hi.headers['content-type']).toBe('text/plain');
    const moved = await request(proxy.port, '/old/page?q=1', { headers: { host: 'local' } });
    expect(moved.status).toBe(302);
    expect(moved.headers.location).toBe('http://elsewhere/new/page?q=1');
  });

  it('503 UH when the cluster has no endpoint, 503 NC when it does not exist', async () => {
    const uh = await request(proxy.port, '/uh', { headers: { host: 'errors' } });
    expect(uh.status).toBe(503);
    expect(uh.body).toBe('no healthy upstream');
    const nc = await request(proxy.port, '/nc', { headers: { host: 'errors' } });
    expect(nc.status).toBe(503);
    const flags = proxy.logs.filter((l) => l.virtualHostName === 'errors').map((l) => l.responseFlagsString);
    expect(flags).toContain('UH');
    expect(flags).toContain('NC');
  });

  it('503 UF when the endpoint refuses the connection', async () => {
    const uf = await request(proxy.port, '/uf', { headers: { host: 'errors' } });
    expect(uf.status).toBe(503);
    expect(uf.body).toContain('connection failure');
    expect(proxy.logs.some((l) => l.clusterName === 'refused' && l.hasFlag(ResponseFlag.UF))).toBe(true);
  });

  it('504 UT when the route timeout passes before the response', async () => {
    const started = Date.now();
    const ut = await request(proxy.port, '/ut', { headers: { host: 'errors' } });
    expect(ut.status).toBe(504);
    expect(ut.body).toBe('upstream request timeout');
    expect(Date.now() - started).toBeLessThan(1200);
    expect(proxy.logs.some((l) => l.clusterName === 'slow' && l.responseFlagsString === 'UT')).toBe(true);
  });

  it('503 UC when the upstream drops the connection before responding; a reset once the response has started', async () => {
    const before = await request(proxy.port, '/uc/before', { headers: { host: 'errors' } });
    expect(before.status).toBe(503);
    expect(before.body).toContain('connection termination');
    expect(proxy.logs.some((l) => l.clusterName === 'dropper' && l.responseFlagsString === 'UC')).toBe(true);
    await expect(request(proxy.port, '/uc/after', { headers: { host: 'errors' } })).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
  });

  it('400 and a closed connection for a malformed request', async () => {
    const out = await rawExchange(proxy.port, 'GET /x HTTP/1.1\r\nHost: reviews\r\nBad Header\r\n\r\n');
    expect(out.startsWith('HTTP/1.1 400')).toBe(true);
    expect(out.toLowerCase()).toContain('connection: close');
    const target = await rawExchange(proxy.port, 'GET nonsense HTTP/1.1\r\nHost: reviews\r\n\r\n');
    expect(target.startsWith('HTTP/1.1 400')).toBe(true);
  });
});

describe('forwarded request', () => {
  it('edits headers, rewrites the path and tags inbound endpoints with their app port', async () => {
    const r = await request(proxy.port, '/some/path?x=1', {
      headers: { host: 'edits', 'x-secret': 's', connection: 'keep-alive, x-hop', 'x-hop': 'drop me', te: 'trailers' },
    });
    const e = echo(r.body);
    expect(e.url).toBe('/rewritten/some/path?x=1');
    expect(e.headers['x-envoy-original-path']).toBe('/some/path?x=1');
    expect(e.headers['x-added']).toBe('route');
    expect(e.headers['x-secret']).toBeUndefined();
    expect(e.headers['x-hop']).toBeUndefined();
    expect(e.headers.te).toBe('trailers');
    expect(e.headers['x-trellis-inbound-port']).toBe('9080');
    expect(e.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(e.headers['x-forwarded-proto']).toBe('http');
    expect(e.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(r.headers['x-resp']).toBe('yes');
    expect(r.headers['x-envoy-upstream-service-time']).toMatch(/^\d+$/);
    expect(r.headers.server).toBe('envoy');
  });

  it('keeps an incoming x-request-id and appends to x-forwarded-for', async () => {
    const r = await request(proxy.port, '/', { headers: { host: 'reviews', 'x-request-id': 'abc', 'x-forwarded-for': '10.1.1.1' } });
    const e = echo(r.body);
    expect(e.headers['x-request-id']).toBe('abc');
    expect(e.headers['x-forwarded-for']).toBe('10.1.1.1, 127.0.0.1');
  });
});
