import crypto from 'node:crypto';
import type { EnvoyJson } from '@trellis/envoy-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shadowAuthority } from '../../src/router/shadow-request.js';
import { cla, edsCluster, listener, routeConfig, snapshot, toCluster, vhost } from '../dataplane/helpers/resources.js';
import { closedPort, many, send, sleep, startProxy, until, upstream, type Proxy, type Upstream } from './route-policy-harness.js';

// request_mirror_policies (Istio's mirror / mirrors), against real sockets. Loopback: proxy 127.0.150.40,
// app 127.0.150.41, mirrors 127.0.150.42-45.

const mirrorTo = (cluster: string, extra: EnvoyJson = {}) => ({ cluster, ...extra });
const half = { runtime_fraction: { default_value: { numerator: 500_000, denominator: 'MILLION' } }, trace_sampled: { value: false } };

let proxy: Proxy;
let app: Upstream;
let mirror: Upstream;
let slowMirror: Upstream;
let erroring: Upstream;

beforeAll(async () => {
  app = await upstream('127.0.150.41', (_req, res, seen) => res.end(`app:${seen.body.length}`));
  mirror = await upstream('127.0.150.42');
  slowMirror = await upstream('127.0.150.43', (_req, res) => {
    const t = setTimeout(() => res.end('late'), 1000);
    res.on('close', () => clearTimeout(t));
  });
  erroring = await upstream('127.0.150.44', (req) => req.socket.destroy());
  const refused = await closedPort('127.0.150.45');
  const routes = [
    toCluster({ prefix: '/half' }, 'app', { request_mirror_policies: [mirrorTo('mirror', half)] }),
    toCluster({ prefix: '/failing' }, 'app', { request_mirror_policies: [mirrorTo('refused'), mirrorTo('erroring'), mirrorTo('no-such-cluster')] }),
    toCluster({ prefix: '/slow' }, 'app', { request_mirror_policies: [mirrorTo('slow-mirror')] }),
    toCluster({ prefix: '/nosuffix' }, 'app', { request_mirror_policies: [mirrorTo('mirror', { disable_shadow_host_suffix_append: true })] }),
    { ...toCluster({ prefix: '/big' }, 'app', { request_mirror_policies: [mirrorTo('mirror')] }), per_request_buffer_limit_bytes: { value: 1024 } },
    toCluster({ prefix: '/rewritten' }, 'app', { prefix_rewrite: '/new', host_rewrite_literal: 'other.host:9090', request_mirror_policies: [mirrorTo('mirror')] }),
    toCluster({ prefix: '/' }, 'app', { request_mirror_policies: [mirrorTo('mirror')] }),
  ];
  proxy = await startProxy(
    '127.0.150.40',
    snapshot({
      listeners: [listener('virtualOutbound', 15001, 'r')],
      routes: [routeConfig('r', [vhost('svc', ['svc', 'svc:8080'], routes)])],
      clusters: ['app', 'mirror', 'slow-mirror', 'erroring', 'refused'].map((c) => edsCluster(c, { connectTimeoutMs: 500 })),
      endpoints: [
        cla('app', [{ address: app.ip, port: app.port }]),
        cla('mirror', [{ address: mirror.ip, port: mirror.port }]),
        cla('slow-mirror', [{ address: slowMirror.ip, port: slowMirror.port }]),
        cla('erroring', [{ address: erroring.ip, port: erroring.port }]),
        cla('refused', [{ address: '127.0.150.45', port: refused }]),
      ],
    }),
  );
});

afterAll(async () => {
  await proxy?.close();
  await Promise.all([app, mirror, slowMirror, erroring].map((u) => u?.close()));
});

/** Waits until `count()` has not moved for 300 ms (shadows may trail their requests on a busy machine). */
async function settled(count: () => number): Promise<number> {
  let last = -1;
  while (count() !== last) {
    last = count();
    await sleep(300);
  }
  return last;
}

describe('request mirroring (request_mirror_policies)', () => {
  it('suffixes the authority with -shadow, before any port (Envoy: foo -> foo-shadow, foo:8080 -> foo-shadow:8080)', () => {
    expect(shadowAuthority('foo')).toBe('foo-shadow');
    expect(shadowAuthority('foo:8080')).toBe('foo-shadow:8080');
    expect(shadowAuthority('[::1]:80')).toBe('[::1]-shadow:80');
  });

  it('mirrors the configured 50% of 1000 requests (within ±6 points: 3.8 σ) with the -shadow authority', async () => {
    const before = mirror.seen.length;
    const replies = await many(1000, 32, (i) => send(proxy, `/half/${i}`, { headers: { host: i % 2 ? 'svc:8080' : 'svc' } }));
    expect(replies.every((r) => r.status === 200 && r.body === 'app:0')).toBe(true);
    const shadows = mirror.seen.slice(before, before + (await settled(() => mirror.seen.length)) - before);
    expect(shadows.length / 10).toBeGreaterThanOrEqual(44);
    expect(shadows.length / 10).toBeLessThanOrEqual(56);
    for (const s of shadows) {
      const i = Number(s.url.split('/')[2]);
      expect(s.headers.host).toBe(i % 2 ? 'svc-shadow:8080' : 'svc-shadow');
    }
  });

  it('copies method, rewritten path and authority, headers and body', async () => {
    const body = crypto.randomBytes(3000);
    const before = mirror.seen.length;
    const r = await send(proxy, '/post?q=1', { method: 'POST', headers: { host: 'svc', 'x-request-id': 'copy-1', 'content-type': 'application/octet-stream' }, body });
    expect([r.status, r.body]).toEqual([200, 'app:3000']);
    await until('the shadow', () => mirror.seen.length > before);
    const s = mirror.seen[before]!;
    expect([s.method, s.url, s.headers.host, s.headers['x-request-id'], s.headers['content-type']]).toEqual(['POST', '/post?q=1', 'svc-shadow', 'copy-1', 'application/octet-stream']);
    expect(s.body.equals(body)).toBe(true);

    const rw = mirror.seen.length;
    await send(proxy, '/rewritten/x', { headers: { host: 'svc' } });
    await until('the shadow', () => mirror.seen.length > rw);
    expect([mirror.seen[rw]!.url, mirror.seen[rw]!.headers.host, mirror.seen[rw]!.headers['x-envoy-original-path']]).toEqual(['/new/x', 'other.host-shadow:9090', '/rewritten/x']);
  });

  it('keeps the authority with disable_shadow_host_suffix_append', async () => {
    const before = mirror.seen.length;
    await send(proxy, '/nosuffix', { headers: { host: 'svc:8080' } });
    await until('the shadow', () => mirror.seen.length > before);
    expect(mirror.seen[before]!.headers.host).toBe('svc:8080');
  });

  it("doesn't mirror a request whose body outgrew the buffer (per_request_buffer_limit_bytes 1 KiB); the caller is unaffected", async () => {
    const before = mirror.seen.length;
    const r = await send(proxy, '/big', { method: 'POST', headers: { host: 'svc' }, body: 'z'.repeat(4096) });
    expect([r.status, r.body]).toEqual([200, 'app:4096']);
    const small = await send(proxy, '/big', { method: 'POST', headers: { host: 'svc' }, body: 'z'.repeat(100) });
    expect(small.status).toBe(200);
    await until('the small one mirrored', () => mirror.seen.length > before);
    await sleep(50);
    expect(mirror.seen.slice(before).map((s) => s.body.length)).toEqual([100]);
  });

  it("a refused, reset or missing mirror doesn't change the caller's answers", async () => {
    const replies = await many(100, 10, () => send(proxy, '/failing', { headers: { host: 'svc' } }));
    expect(replies.every((r) => r.status === 200 && r.body === 'app:0')).toBe(true);
    const erroringHost = proxy.sidecar.current.clusters.get('erroring')!.hosts.allHosts[0]!.stats;
    await until('the shadows to fail', () => erroringHost.rqError >= 100);
    expect(erroringHost.rqActive).toBe(0);
  });

  it("a slow mirror (1 s) doesn't slow the caller down", async () => {
    const replies = await many(50, 10, () => send(proxy, '/slow', { headers: { host: 'svc' } }));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    expect(Math.max(...replies.map((r) => r.ms))).toBeLessThan(100);
    await until('the slow shadows to arrive', () => slowMirror.seen.length >= 50);
  });
});
