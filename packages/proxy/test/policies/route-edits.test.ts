import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { many, mesh, send, startProxy, upstream, type Mesh, type Proxy, type Upstream } from './route-policy-harness.js';

// Redirects, rewrites, direct responses and header edits, written as Istio VirtualService fields, translated
// by the real control plane, run by the sidecar, checked with requests. Loopback: proxy 127.0.150.60, the
// app's v1 and v2 pods 127.0.150.61 and .62.

interface Echo {
  version: string;
  url: string;
  headers: Record<string, string>;
}

const vs = String.raw`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: edit, namespace: default }
spec:
  hosts: [edit]
  http:
  - match: [{ uri: { prefix: /redirect/full } }]
    redirect: { uri: /new/place, authority: elsewhere.example, port: 8443, scheme: https, redirectCode: 302 }
  - match: [{ uri: { prefix: /redirect/default } }]
    redirect: { uri: /moved }
  - match: [{ uri: { prefix: /redirect/authority } }]
    redirect: { authority: other.example }
  - match: [{ uri: { exact: /direct } }]
    directResponse: { status: 418, body: { string: "short and stout" } }
    headers: { response: { set: { x-direct: "1" } } }
  - match: [{ uri: { prefix: /v1/api/ } }]
    rewrite: { uri: /api/ }
    route: [{ destination: { host: edit, subset: v1 } }]
  - match: [{ uri: { exact: /exact/old } }]
    rewrite: { uri: /exact/new }
    route: [{ destination: { host: edit, subset: v1 } }]
  - match: [{ uri: { regex: "/regex/[0-9]+" } }]
    rewrite: { uri: /replaced }
    route: [{ destination: { host: edit, subset: v1 } }]
  - match: [{ uri: { prefix: /service/ } }]
    rewrite: { uriRegexRewrite: { match: '^/service/([^/]+)(/.*)$', rewrite: '\2/instance/\1' } }
    route: [{ destination: { host: edit, subset: v1 } }]
  - match: [{ uri: { prefix: /authority } }]
    rewrite: { authority: rewritten.example }
    route: [{ destination: { host: edit, subset: v1 } }]
  - match: [{ uri: { prefix: /headers } }]
    headers:
      request: { set: { x-set: route }, add: { x-add: route }, remove: [x-remove-me] }
      response: { set: { x-resp-set: route }, add: { x-resp-add: route }, remove: [x-app-secret] }
    route:
    - destination: { host: edit, subset: v1 }
      weight: 50
      headers: { request: { set: { x-dest: v1 } }, response: { set: { x-dest-resp: v1 } } }
    - destination: { host: edit, subset: v2 }
      weight: 50
      headers: { request: { set: { x-dest: v2, host: v2.example } }, response: { set: { x-dest-resp: v2 } } }
  - route: [{ destination: { host: edit, subset: v1 } }]
`;

const service = (v1: number, v2: number) => `
apiVersion: v1
kind: Service
metadata: { name: edit, namespace: default }
spec: { selector: { app: edit }, ports: [{ name: http, port: 8080 }] }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: edit-v1, namespace: default }
spec: { address: 127.0.150.61, labels: { app: edit, version: v1 }, ports: { http: ${v1} } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: edit-v2, namespace: default }
spec: { address: 127.0.150.62, labels: { app: edit, version: v2 }, ports: { http: ${v2} } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: edit, namespace: default }
spec:
  host: edit
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
`;

let v1: Upstream;
let v2: Upstream;
let plane: Mesh;
let proxy: Proxy;

const echoApp = (ip: string, version: string) =>
  upstream(ip, (req, res) => {
    const body = JSON.stringify({ version, url: req.url, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json', 'x-app-secret': 's', 'x-resp-add': 'app', 'x-resp-set': 'app' }).end(body);
  });

beforeAll(async () => {
  [v1, v2] = await Promise.all([echoApp('127.0.150.61', 'v1'), echoApp('127.0.150.62', 'v2')]);
  plane = await mesh({ 'edit.yaml': service(v1.port, v2.port), 'edit-vs.yaml': vs });
  proxy = await startProxy('127.0.150.60', plane.snapshotFor('127.0.150.60'));
});

afterAll(async () => {
  await proxy?.close();
  await plane?.close();
  await Promise.all([v1?.close(), v2?.close()]);
});

const EDIT = { host: 'edit:8080' };
const get = async (path: string, headers: Record<string, string> = {}) => {
  const r = await send(proxy, path, { headers: { ...EDIT, ...headers } });
  return { ...r, echo: r.headers['content-type'] === 'application/json' ? (JSON.parse(r.body) as Echo) : null };
};

describe('Istio route edits as the sidecar runs them', () => {
  it('redirect: uri, authority, port, scheme and redirectCode make the Location; the query is kept', async () => {
    const r = await get('/redirect/full?x=1');
    expect([r.status, r.headers.location]).toEqual([302, 'https://elsewhere.example:8443/new/place?x=1']);
    expect(v1.seen.length + v2.seen.length).toBe(0);
  });

  it('redirect: 301 by default, the request authority (and port) kept when not replaced', async () => {
    const moved = await get('/redirect/default');
    expect([moved.status, moved.headers.location]).toEqual([301, 'http://edit:8080/moved']);
    const other = await get('/redirect/authority/x?y=2');
    expect([other.status, other.headers.location]).toEqual([301, 'http://other.example/redirect/authority/x?y=2']);
  });

  it('directResponse: status, body, and the route response headers', async () => {
    const r = await get('/direct');
    expect([r.status, r.body, r.headers['content-type'], r.headers['x-direct']]).toEqual([418, 'short and stout', 'text/plain', '1']);
  });

  it('rewrite.uri swaps the matched prefix (the query kept; x-envoy-original-path set)', async () => {
    const r = await get('/v1/api/items?page=2');
    expect([r.echo!.version, r.echo!.url, r.echo!.headers['x-envoy-original-path']]).toEqual(['v1', '/api/items?page=2', '/v1/api/items?page=2']);
  });

  it('rewrite.uri on an exact match replaces the path', async () => {
    expect((await get('/exact/old?q=1')).echo!.url).toBe('/exact/new?q=1');
  });

  it('rewrite.uri on a regex match replaces the whole path, keeping the query (as Envoy does)', async () => {
    expect((await get('/regex/42?q=1')).echo!.url).toBe('/replaced?q=1');
  });

  it('rewrite.uriRegexRewrite substitutes with capture groups', async () => {
    expect((await get('/service/foo/bar/baz?z=1')).echo!.url).toBe('/bar/baz/instance/foo?z=1');
  });

  it('rewrite.authority sets the upstream Host', async () => {
    expect((await get('/authority')).echo!.headers.host).toBe('rewritten.example');
  });

  it('headers: set/add/remove at route and destination level, on requests and responses', async () => {
    const replies = await many(40, 8, () =>
      get('/headers', { 'x-set': 'client', 'x-add': 'client', 'x-remove-me': 'gone', 'x-keep': 'kept' }),
    );
    const byVersion = new Map(replies.map((r) => [r.echo!.version, r]));
    expect([...byVersion.keys()].sort()).toEqual(['v1', 'v2']);
    for (const [version, r] of byVersion) {
      const h = r.echo!.headers;
      expect(h['x-set']).toBe('route');
      expect(h['x-add']).toBe('client, route');
      expect(h['x-remove-me']).toBeUndefined();
      expect(h['x-keep']).toBe('kept');
      expect(h['x-dest']).toBe(version);
      expect(h.host).toBe(version === 'v2' ? 'v2.example' : 'edit:8080');
      expect(r.headers['x-resp-set']).toBe('route');
      expect(r.headers['x-resp-add']).toBe('app, route');
      expect(r.headers['x-app-secret']).toBeUndefined();
      expect(r.headers['x-dest-resp']).toBe(version);
    }
  });
});
