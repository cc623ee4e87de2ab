import { EXTENSION_TYPE_URL, type EnvoyJson } from '@trellis/envoy-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cla, edsCluster, listener, routeConfig, snapshot, toCluster, vhost } from '../dataplane/helpers/resources.js';
import { mesh, send, startProxy, upstream, type Mesh, type Proxy, type Upstream } from './route-policy-harness.js';

// envoy.filters.http.cors, from Istio's corsPolicy through the real translator into the sidecar, and from
// hand-made CorsPolicy configs. Loopback: proxies 127.0.150.50 and .52, app 127.0.150.51.

let app: Upstream;
let plane: Mesh;
let proxy: Proxy;
let handMade: Proxy;

const vs = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: web, namespace: default }
spec:
  hosts: [web]
  http:
  - match: [{ uri: { prefix: /ignore } }]
    corsPolicy:
      allowOrigins: [{ exact: "https://ok.example" }]
      allowMethods: [GET, POST]
      unmatchedPreflights: IGNORE
    route: [{ destination: { host: web } }]
  - corsPolicy:
      allowOrigins: [{ exact: "https://ok.example" }, { regex: "https://[a-z]+\\\\.trusted\\\\.example" }]
      allowMethods: [GET, POST, PATCH]
      allowHeaders: [x-custom, content-type]
      exposeHeaders: [x-exposed]
      maxAge: 24h
      allowCredentials: true
    route: [{ destination: { host: web } }]
`;

beforeAll(async () => {
  app = await upstream('127.0.150.51', (_req, res, seen) => res.writeHead(200, { 'x-exposed': 'yes' }).end(`app saw ${seen.method}`));
  plane = await mesh({
    'web.yaml': `
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec: { selector: { app: web }, ports: [{ name: http, port: 8080 }] }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: web-1, namespace: default }
spec: { address: 127.0.150.51, labels: { app: web }, ports: { http: ${app.port} } }
`,
    'web-vs.yaml': vs,
  });
  proxy = await startProxy('127.0.150.50', plane.snapshotFor('127.0.150.50'));

  const cors = (policy: EnvoyJson): EnvoyJson => ({ 'envoy.filters.http.cors': { '@type': EXTENSION_TYPE_URL.corsPolicy, ...policy } });
  handMade = await startProxy(
    '127.0.150.52',
    snapshot({
      listeners: [listener('virtualOutbound', 15001, 'r')],
      routes: [
        routeConfig('r', [
          vhost(
            'h',
            ['h'],
            [
              toCluster({ prefix: '/star' }, 'web', {}, { typed_per_filter_config: cors({ allow_origin_string_match: [{ safe_regex: { regex: '.*' } }], allow_methods: '*', allow_headers: '*' }) }),
              toCluster({ prefix: '/off' }, 'web', {}, { typed_per_filter_config: cors({ filter_enabled: { default_value: { numerator: 0 } } }) }),
              toCluster({ prefix: '/pna' }, 'web', {}, { typed_per_filter_config: cors({ allow_private_network_access: { value: true } }) }),
              toCluster({ prefix: '/' }, 'web', {}, { typed_per_filter_config: cors({ allow_methods: 'PUT', max_age: '60' }) }),
            ],
            // The virtual host's policy: routes' policies are merged over it field by field.
            { typed_per_filter_config: cors({ allow_origin_string_match: [{ prefix: 'https://vh.' }], allow_methods: 'GET', expose_headers: 'x-vh' }) },
          ),
        ]),
      ],
      clusters: [edsCluster('web')],
      endpoints: [cla('web', [{ address: app.ip, port: app.port }])],
    }),
  );
});

afterAll(async () => {
  await proxy?.close();
  await handMade?.close();
  await plane?.close();
  await app?.close();
});

const WEB = { host: 'web:8080' };
const preflight = (origin: string, method = 'PATCH', extra: Record<string, string> = {}) => ({
  method: 'OPTIONS',
  headers: { ...WEB, origin, 'access-control-request-method': method, ...extra },
});
const corsHeaders = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([k]) => k.startsWith('access-control-')));

describe('CORS (Istio corsPolicy -> envoy.filters.http.cors)', () => {
  it('answers a preflight from an allowed origin itself, with the policy', async () => {
    const before = app.seen.length;
    const r = await send(proxy, '/items', preflight('https://ok.example', 'PATCH', { 'access-control-request-headers': 'x-custom' }));
    expect([r.status, r.body, r.headers['content-length']]).toEqual([200, '', '0']);
    expect(corsHeaders(r.headers)).toEqual({
      'access-control-allow-origin': 'https://ok.example',
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET,POST,PATCH',
      'access-control-allow-headers': 'x-custom,content-type',
      'access-control-max-age': '86400',
      'access-control-expose-headers': 'x-exposed',
    });
    expect(app.seen.length).toBe(before);
  });

  it('matches origins by regex', async () => {
    const r = await send(proxy, '/items', preflight('https://shop.trusted.example'));
    expect(r.headers['access-control-allow-origin']).toBe('https://shop.trusted.example');
    const not = await send(proxy, '/items', { headers: { ...WEB, origin: 'https://shop.trusted.example.evil' } });
    expect(not.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('adds allow-origin, credentials and exposed headers to the response of a simple request', async () => {
    const r = await send(proxy, '/items', { headers: { ...WEB, origin: 'https://ok.example' } });
    expect([r.status, r.body]).toEqual([200, 'app saw GET']);
    expect(corsHeaders(r.headers)).toEqual({
      'access-control-allow-origin': 'https://ok.example',
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'x-exposed',
    });
  });

  it('leaves the response alone for an origin not allowed, or no origin', async () => {
    for (const headers of [{ ...WEB, origin: 'https://evil.example' }, WEB]) {
      const r = await send(proxy, '/items', { headers });
      expect([r.status, corsHeaders(r.headers)]).toEqual([200, {}]);
    }
  });

  it('forwards a preflight whose origin does not match (unmatchedPreflights: FORWARD, the default)', async () => {
    const before = app.seen.length;
    const r = await send(proxy, '/items', preflight('https://evil.example'));
    expect([r.status, r.body, corsHeaders(r.headers)]).toEqual([200, 'app saw OPTIONS', {}]);
    expect(app.seen.length).toBe(before + 1);
  });

  it('answers it without allow-origin under unmatchedPreflights: IGNORE, never reaching the app', async () => {
    const before = app.seen.length;
    const r = await send(proxy, '/ignore', preflight('https://evil.example'));
    expect([r.status, r.body]).toEqual([200, '']);
    expect(corsHeaders(r.headers)).toEqual({ 'access-control-allow-methods': 'GET,POST' });
    expect(app.seen.length).toBe(before);
    const allowed = await send(proxy, '/ignore', preflight('https://ok.example'));
    expect(allowed.headers['access-control-allow-origin']).toBe('https://ok.example');
  });

  it('forwards an OPTIONS that is not a preflight (no Access-Control-Request-Method)', async () => {
    const r = await send(proxy, '/items', { method: 'OPTIONS', headers: { ...WEB, origin: 'https://ok.example' } });
    expect([r.status, r.body, r.headers['access-control-allow-origin']]).toEqual([200, 'app saw OPTIONS', 'https://ok.example']);
  });
});

describe('CORS policies as Envoy reads them', () => {
  it('echoes the requested method and headers for "*", and any origin for a matcher accepting "*"', async () => {
    const r = await send(handMade, '/star', {
      method: 'OPTIONS',
      headers: { host: 'h', origin: 'https://any.where', 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'x-a,x-b' },
    });
    expect(corsHeaders(r.headers)).toEqual({
      'access-control-allow-origin': 'https://any.where',
      'access-control-allow-methods': 'DELETE',
      'access-control-allow-headers': 'x-a,x-b',
      // Not set on the route: the virtual host's.
      'access-control-expose-headers': 'x-vh',
    });
  });

  it("merges a route's policy over its virtual host's field by field", async () => {
    const r = await send(handMade, '/x', { method: 'OPTIONS', headers: { host: 'h', origin: 'https://vh.example', 'access-control-request-method': 'PUT' } });
    expect(corsHeaders(r.headers)).toEqual({
      'access-control-allow-origin': 'https://vh.example',
      'access-control-allow-methods': 'PUT',
      'access-control-max-age': '60',
      'access-control-expose-headers': 'x-vh',
    });
  });

  it('does nothing when filter_enabled is 0%', async () => {
    const r = await send(handMade, '/off', { method: 'OPTIONS', headers: { host: 'h', origin: 'https://vh.example', 'access-control-request-method': 'GET' } });
    expect([r.body, corsHeaders(r.headers)]).toEqual(['app saw OPTIONS', {}]);
  });

  it('allows private network access when asked and allowed', async () => {
    const r = await send(handMade, '/pna', {
      method: 'OPTIONS',
      headers: { host: 'h', origin: 'https://vh.example', 'access-control-request-method': 'GET', 'access-control-request-private-network': 'true' },
    });
    expect(r.headers['access-control-allow-private-network']).toBe('true');
  });
});
