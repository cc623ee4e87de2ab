import crypto from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import type { EnvoyJson } from '@trellis/envoy-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cla, edsCluster, listener, msDuration, routeConfig, snapshot, toCluster, vhost } from '../dataplane/helpers/resources.js';
import { closedPort, many, send, startProxy, until, upstream, type Proxy, type Upstream } from './route-policy-harness.js';

// The router's retries, per-try and route timeouts, against real sockets. Loopback: proxy 127.0.150.30,
// upstreams 127.0.150.31-39.

/** Istio's retry policy for `retries: { attempts: N }` (its defaults for the rest). */
const istioRetry = (attempts: number, extra: EnvoyJson = {}): EnvoyJson => ({
  retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
  num_retries: { value: attempts },
  retriable_status_codes: [503],
  retry_host_predicate: [{ name: 'envoy.retry_host_predicates.previous_hosts', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate' } }],
  host_selection_retry_max_attempts: 5,
  ...extra,
});
/** Istio's default: no retry budget to speak of (max_retries 2^32-1). */
const ISTIO_BREAKERS = { circuit_breakers: { thresholds: [{ max_retries: { value: 4294967295 } }] } };
const cluster = (name: string, extra: EnvoyJson = ISTIO_BREAKERS) => edsCluster(name, { extra });

let proxy: Proxy;
let flaky: Upstream;
let slow: Upstream;
let bad: Upstream;
let good: Upstream;
let partial: Upstream;
let bodies: Upstream;
let grpc: http2.Http2Server;
let grpcCalls = 0;
let grpcHang: http2.Http2Server;
let sink: Upstream;
let refused: number;

beforeAll(async () => {
  let n = 0;
  // Fails 1 request in 3 (every third one it sees) with 503.
  flaky = await upstream('127.0.150.31', (_req, res) => {
    if (++n % 3 === 0) res.writeHead(503, { 'content-length': '5' }).end('flaky');
    else res.end('ok');
  });
  slow = await upstream('127.0.150.32', (_req, res) => {
    const t = setTimeout(() => res.end('late'), 300);
    res.on('close', () => clearTimeout(t));
  });
  bad = await upstream('127.0.150.33', (_req, res) => res.writeHead(503, { 'x-host': 'bad' }).end('bad'));
  good = await upstream('127.0.150.34', (_req, res) => res.writeHead(200, { 'x-host': 'good' }).end('good'));
  // Sends the headers and some of the body, then drops the connection.
  partial = await upstream('127.0.150.35', (req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('partial');
    setTimeout(() => req.socket.destroy(), 20);
  });
  // First attempt of each request id: 503 (after the whole body, or at once with ?early); then the body back.
  const firstSeen = new Set<string>();
  bodies = await upstream(
    '127.0.150.36',
    (req, res, seen) => {
      const id = String(req.headers['x-request-id']);
      const first = !firstSeen.has(id);
      firstSeen.add(id);
      if (first && req.url!.includes('early')) {
        res.writeHead(503, { connection: 'close' }).end();
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.body = Buffer.concat(chunks);
        if (first) res.writeHead(503).end('first');
        else res.end(seen.body);
      });
    },
    { streaming: true },
  );
  grpc = http2.createServer();
  grpc.on('stream', (stream) => {
    stream.on('data', () => undefined);
    stream.on('end', () => {
      // The first call is refused UNAVAILABLE (trailers-only), the next one answered.
      if (++grpcCalls === 1) return stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14' }, { endStream: true });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.from([0, 0, 0, 0, 2, 0x6f, 0x6b]));
    });
  });
  await new Promise<void>((r) => grpc.listen(0, '127.0.150.37', r));
  refused = await closedPort('127.0.150.38');
  // Counts the body it reads (never buffering it).
  sink = await upstream(
    '127.0.150.28',
    (req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(String(n)));
    },
    { streaming: true },
  );
  // Never answers: gRPC deadlines end the calls.
  grpcHang = http2.createServer();
  grpcHang.on('stream', (stream) => stream.on('data', () => undefined));
  await new Promise<void>((r) => grpcHang.listen(0, '127.0.150.39', r));

  const to = (prefix: string, c: string, action: EnvoyJson = {}) => toCluster({ prefix }, c, action);
  proxy = await startProxy(
    '127.0.150.30',
    snapshot({
      listeners: [listener('virtualOutbound', 15001, 'r')],
      routes: [
        routeConfig('r', [
          vhost('app', ['app'], [
            to('/flaky/none', 'flaky'),
            to('/flaky/tight', 'flaky-tight', { retry_policy: istioRetry(3) }),
            to('/flaky', 'flaky', { retry_policy: istioRetry(3) }),
            to('/pertry/alone', 'slow', { retry_policy: { retry_on: 'connect-failure', per_try_timeout: msDuration(100) } }),
            to('/pertry/retried', 'slow', { retry_policy: { retry_on: '5xx', num_retries: { value: 2 }, per_try_timeout: msDuration(100) } }),
            to('/pertry/overall', 'slow', { timeout: msDuration(250), retry_policy: { retry_on: '5xx', num_retries: { value: 10 }, per_try_timeout: msDuration(100) } }),
            to('/prev', 'pair', { retry_policy: istioRetry(1) }),
            to('/noprev', 'pair', { retry_policy: { retry_on: 'retriable-status-codes', retriable_status_codes: [503], num_retries: { value: 1 } } }),
            to('/partial', 'partial', { retry_policy: { retry_on: '5xx,reset,connect-failure', num_retries: { value: 3 } } }),
            to('/body/small-buffer', 'bodies', { retry_policy: istioRetry(2) }),
            to('/body', 'bodies', { retry_policy: istioRetry(2) }),
            to('/connect', 'half-refused', { retry_policy: istioRetry(2) }),
            to('/sink', 'sink', { retry_policy: istioRetry(2) }),
          ], { include_request_attempt_count: true, include_attempt_count_in_response: true, include_is_timeout_retry_header: true }),
          vhost('grpc', ['grpc'], [
            // As Istio writes a route without a timeout: none, and gRPC calls bounded by their grpc-timeout only.
            to('/hang.Svc/Uncapped', 'grpc-hang', { timeout: { seconds: 0 }, max_grpc_timeout: { seconds: 0 } }),
            to('/hang.Svc/Capped', 'grpc-hang', { timeout: msDuration(5000), max_grpc_timeout: msDuration(100) }),
            to('/', 'grpc', { retry_policy: istioRetry(2) }),
          ]),
        ]),
      ].map((rc) => {
        // The small-buffer route keeps 1 KiB of body for replay.
        const routes = ((rc.virtual_hosts as EnvoyJson[])[0]!.routes as EnvoyJson[]);
        routes.find((r) => (r.match as EnvoyJson).prefix === '/body/small-buffer')!.per_request_buffer_limit_bytes = { value: 1024 };
        return rc;
      }),
      clusters: [
        cluster('flaky'),
        cluster('flaky-tight', { circuit_breakers: { thresholds: [{ max_retries: { value: 0 } }] } }),
        cluster('slow'),
        cluster('partial'),
        cluster('bodies'),
        cluster('sink'),
        cluster('pair', { ...ISTIO_BREAKERS, lb_policy: 'ROUND_ROBIN' }),
        cluster('half-refused', { ...ISTIO_BREAKERS, lb_policy: 'ROUND_ROBIN' }),
        edsCluster('grpc', { h2: true, extra: ISTIO_BREAKERS }),
        edsCluster('grpc-hang', { h2: true }),
      ],
      endpoints: [
        cla('flaky', [{ address: flaky.ip, port: flaky.port }]),
        cla('flaky-tight', [{ address: flaky.ip, port: flaky.port }]),
        cla('slow', [{ address: slow.ip, port: slow.port }]),
        cla('partial', [{ address: partial.ip, port: partial.port }]),
        cla('bodies', [{ address: bodies.ip, port: bodies.port }]),
        cla('sink', [{ address: sink.ip, port: sink.port }]),
        cla('pair', [{ address: bad.ip, port: bad.port }, { address: good.ip, port: good.port }]),
        cla('half-refused', [{ address: '127.0.150.38', port: refused }, { address: good.ip, port: good.port }]),
        cla('grpc', [{ address: '127.0.150.37', port: (grpc.address() as net.AddressInfo).port }]),
        cla('grpc-hang', [{ address: '127.0.150.39', port: (grpcHang.address() as net.AddressInfo).port }]),
      ],
    }),
  );
});

afterAll(async () => {
  await proxy?.close();
  await Promise.all([flaky, slow, bad, good, partial, bodies, sink].map((u) => u?.close()));
  grpc?.close();
  grpcHang?.close();
});

const APP = { host: 'app' };
const clusterStats = (name: string) => proxy.sidecar.current.clusters.get(name)!.stats;
const logOf = (rid: string) => proxy.logs.find((l) => l.requestId === rid);

describe('retries (RetryPolicy in the router)', () => {
  it('turn an endpoint failing 1 request in 3 into ≥ 99% success with attempts: 3 (300 requests)', async () => {
    const without = await many(60, 1, () => send(proxy, '/flaky/none', { headers: APP }));
    expect(without.filter((r) => r.status === 503).length).toBe(20);

    const seenBefore = flaky.seen.length;
    const replies = await many(300, 1, () => send(proxy, '/flaky', { headers: APP }));
    const ok = replies.filter((r) => r.status === 200).length;
    expect(ok / 300).toBeGreaterThanOrEqual(0.99);
    const attempts = flaky.seen.length - seenBefore;
    const retried = replies.filter((r) => r.headers['x-envoy-attempt-count'] !== '1');
    expect(attempts).toBe(300 + retried.length);
    expect(retried.length).toBeGreaterThan(80);
    const counts = flaky.seen.slice(seenBefore).map((s) => s.headers['x-envoy-attempt-count']);
    expect(new Set(counts)).toEqual(new Set(['1', '2']));
    const stats = clusterStats('flaky');
    expect(stats.upstreamRqRetry).toBe(retried.length);
    expect(stats.upstreamRqRetrySuccess).toBe(retried.length);
    expect(proxy.sidecar.current.clusters.get('flaky')!.resources.retries.count).toBe(0);
  });

  it("when the cluster's retry budget (max_retries) is spent, the 503 goes through flagged UO", async () => {
    const replies = await many(30, 1, (i) => send(proxy, '/flaky/tight', { headers: { ...APP, 'x-request-id': `tight-${i}` } }));
    const refusedRetries = replies.map((r, i) => [r, i] as const).filter(([r]) => r.status === 503);
    expect(refusedRetries.length).toBeGreaterThanOrEqual(9);
    await until('logs', () => refusedRetries.every(([, i]) => logOf(`tight-${i}`)));
    for (const [, i] of refusedRetries) expect(logOf(`tight-${i}`)!.responseFlagsString).toBe('UO');
    expect(clusterStats('flaky-tight').upstreamRqRetryOverflow).toBe(refusedRetries.length);
  });

  it('per_try_timeout alone: 504 UT after 100 ms (±50), the attempt not retried when retry_on excludes timeouts', async () => {
    const before = slow.seen.length;
    const r = await send(proxy, '/pertry/alone', { headers: { ...APP, 'x-request-id': 'pt-alone' } });
    expect(r.status).toBe(504);
    expect(r.body).toBe('upstream request timeout');
    expect(r.ms).toBeGreaterThanOrEqual(98);
    expect(r.ms).toBeLessThan(150);
    expect(slow.seen.length - before).toBe(1);
    await until('log', () => logOf('pt-alone') !== undefined);
    expect([logOf('pt-alone')!.responseFlagsString, logOf('pt-alone')!.responseCodeDetails]).toEqual(['UT', 'upstream_per_try_timeout']);
  });

  it('per-try timeouts are retried on 5xx: three 100 ms tries (plus backoff), marked as timeout retries', async () => {
    const before = slow.seen.length;
    const r = await send(proxy, '/pertry/retried', { headers: { ...APP, 'x-request-id': 'pt-retried' } });
    expect(r.status).toBe(504);
    // 3 × 100 ms, plus two fully jittered backoffs (< 25 ms, < 50 ms).
    expect(r.ms).toBeGreaterThanOrEqual(298);
    expect(r.ms).toBeLessThan(375 + 50);
    const tries = slow.seen.slice(before);
    expect(tries.map((s) => s.headers['x-envoy-attempt-count'])).toEqual(['1', '2', '3']);
    expect(tries.map((s) => s.headers['x-envoy-is-timeout-retry'])).toEqual([undefined, 'true', 'true']);
    await until('log', () => logOf('pt-retried') !== undefined);
    expect(logOf('pt-retried')!.responseFlagsString).toBe('UT,URX');
  });

  it('the route timeout (250 ms, ±50) covers all attempts', async () => {
    const r = await send(proxy, '/pertry/overall', { headers: { ...APP, 'x-request-id': 'overall' } });
    expect(r.status).toBe(504);
    expect(r.ms).toBeGreaterThanOrEqual(248);
    expect(r.ms).toBeLessThan(300);
    await until('log', () => logOf('overall') !== undefined);
    expect(logOf('overall')!.responseCodeDetails).toBe('upstream_response_timeout');
  });

  it('a retry goes to another host (previous_hosts), even with other requests moving the round robin', async () => {
    const goodBefore = good.seen.length;
    const badBefore = bad.seen.length;
    const replies = await many(400, 16, () => send(proxy, '/prev', { headers: APP }));
    expect(replies.every((r) => r.status === 200 && r.headers['x-host'] === 'good')).toBe(true);
    const badHits = bad.seen.length - badBefore;
    expect(badHits).toBeGreaterThan(100);
    // Every request that met the bad host first was retried on the good one, never on the bad one again.
    expect(good.seen.length - goodBefore).toBe(400);
    expect(replies.filter((r) => r.headers['x-envoy-attempt-count'] === '2').length).toBe(badHits);

    // Without the predicate the round robin sends some retries back to the bad host.
    const control = await many(400, 16, () => send(proxy, '/noprev', { headers: APP }));
    expect(control.filter((r) => r.status === 503).length).toBeGreaterThan(0);
  });

  it('a connect failure is retried on the other host', async () => {
    const replies = await many(40, 4, () => send(proxy, '/connect', { headers: APP }));
    expect(replies.every((r) => r.status === 200 && r.body === 'good')).toBe(true);
  });

  it('never retries once response headers went downstream: the client sees the 200 cut short', async () => {
    const before = partial.seen.length;
    const raw = await new Promise<string>((resolve) => {
      const s = net.connect(proxy.port, proxy.ip);
      let out = '';
      s.on('data', (d) => (out += d.toString('latin1')));
      s.on('close', () => resolve(out));
      s.on('error', () => undefined);
      s.write('GET /partial HTTP/1.1\r\nhost: app\r\nx-request-id: partial\r\n\r\n');
    });
    expect(raw).toMatch(/^HTTP\/1\.1 200/);
    expect(raw).toMatch(/\r\n\r\npartial$/);
    expect(partial.seen.length - before).toBe(1);
    await until('log', () => logOf('partial') !== undefined);
    expect(logOf('partial')!.responseFlagsString).toBe('UC');
  });

  it('replays a small POST body on the retry', async () => {
    const body = crypto.randomBytes(5000).toString('base64');
    const before = bodies.seen.length;
    const r = await send(proxy, '/body', { method: 'POST', headers: { ...APP, 'x-request-id': 'replay' }, body });
    expect([r.status, r.body === body]).toEqual([200, true]);
    const tries = bodies.seen.slice(before);
    expect(tries.map((t) => t.body.toString() === body)).toEqual([true, true]);
  });

  it('replays what arrived and streams the rest when the first try fails while the body is still coming', async () => {
    const parts = [crypto.randomBytes(700).toString('hex'), crypto.randomBytes(700).toString('hex'), crypto.randomBytes(700).toString('hex')];
    const before = bodies.seen.length;
    const r = await send(proxy, '/body?early', { method: 'POST', headers: { ...APP, 'x-request-id': 'streamed' }, body: parts, chunkGapMs: 40 });
    expect(r.status).toBe(200);
    expect(r.body).toBe(parts.join(''));
    expect(bodies.seen.length - before).toBe(2);
  });

  it('does not retry a request whose body outgrew the buffer (per_request_buffer_limit_bytes 1 KiB)', async () => {
    const before = bodies.seen.length;
    const r = await send(proxy, '/body/small-buffer', { method: 'POST', headers: { ...APP, 'x-request-id': 'too-big' }, body: 'x'.repeat(4096) });
    expect([r.status, r.body]).toEqual([503, 'first']);
    expect(bodies.seen.length - before).toBe(1);
    const small = await send(proxy, '/body/small-buffer', { method: 'POST', headers: { ...APP, 'x-request-id': 'small' }, body: 'y'.repeat(512) });
    expect([small.status, small.body]).toEqual([200, 'y'.repeat(512)]);
  });

  it('streams a body far past the buffer limit (20 MB, chunked) to the attempt whole, on a retrying route', async () => {
    const chunk = Buffer.alloc(256 * 1024, 'b');
    const r = await send(proxy, '/sink', { method: 'POST', headers: APP, body: Array.from({ length: 80 }, () => chunk), chunkGapMs: 0 });
    expect([r.status, r.body]).toEqual([200, String(80 * chunk.length)]);
  });

  it('retries a gRPC call refused UNAVAILABLE (trailers-only grpc-status 14)', async () => {
    const session = http2.connect(`http://${proxy.ip}:${proxy.port}`);
    try {
      const result = await new Promise<{ status: number; trailers: http2.IncomingHttpHeaders; data: Buffer }>((resolve, reject) => {
        const req = session.request({ ':method': 'POST', ':path': '/pkg.Svc/Call', ':authority': 'grpc', 'content-type': 'application/grpc', te: 'trailers' });
        let status = 0;
        let trailers: http2.IncomingHttpHeaders = {};
        const chunks: Buffer[] = [];
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('trailers', (t) => (trailers = t));
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => resolve({ status, trailers, data: Buffer.concat(chunks) }));
        req.on('error', reject);
        req.end(Buffer.from([0, 0, 0, 0, 0]));
      });
      expect([result.status, result.trailers['grpc-status'], result.data.subarray(5).toString()]).toEqual([200, '0', 'ok']);
      expect(grpcCalls).toBe(2);
    } finally {
      session.close();
    }
  });

  it('gRPC calls take the route timeout from grpc-timeout (max_grpc_timeout as Istio sets it), capped by max_grpc_timeout', async () => {
    const session = http2.connect(`http://${proxy.ip}:${proxy.port}`);
    const call = (path: string, timeout: string) =>
      new Promise<{ status: number; ms: number }>((resolve, reject) => {
        const start = performance.now();
        const req = session.request({ ':method': 'POST', ':path': path, ':authority': 'grpc', 'content-type': 'application/grpc', 'grpc-timeout': timeout });
        let status = 0;
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', () => undefined);
        req.on('end', () => resolve({ status, ms: performance.now() - start }));
        req.on('error', reject);
        req.end(Buffer.from([0, 0, 0, 0, 0]));
      });
    try {
      const uncapped = await call('/hang.Svc/Uncapped', '150m');
      expect(uncapped.status).toBe(504);
      expect(uncapped.ms).toBeGreaterThanOrEqual(148);
      expect(uncapped.ms).toBeLessThan(200);
      const capped = await call('/hang.Svc/Capped', '10S');
      expect(capped.status).toBe(504);
      expect(capped.ms).toBeGreaterThanOrEqual(98);
      expect(capped.ms).toBeLessThan(150);
    } finally {
      session.close();
    }
  });
});
