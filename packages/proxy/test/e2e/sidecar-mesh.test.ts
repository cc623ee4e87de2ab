import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Server } from 'node:http';
import { ControlPlane, XdsServer, generateResources, parseNode, type NamedResource } from '@trellis/control';
import { configDir, eventually, startApp, startSidecar, tally, type SidecarProcess } from './harness.js';

// Issue-3 acceptance, end to end: YAML -> control plane -> ADS -> a real `trellis proxy` process -> apps.
// Pod IPs 127.0.120.x are this file's own.

const service = (v1: number, v2: number) => `
apiVersion: v1
kind: Service
metadata: { name: hello, namespace: default }
spec: { selector: { app: hello }, ports: [{ name: http, port: 8080 }] }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: hello-v1, namespace: default }
spec: { address: 127.0.0.1, labels: { app: hello, version: v1 }, ports: { http: ${v1} } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: hello-v2, namespace: default }
spec: { address: 127.0.0.1, labels: { app: hello, version: v2 }, ports: { http: ${v2} } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: hello, namespace: default }
spec:
  host: hello
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
`;

const routing = (w1: number, w2: number) => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: hello, namespace: default }
spec:
  hosts: [hello]
  http:
  - match: [{ headers: { x-canary: { exact: "yes" } } }]
    route: [{ destination: { host: hello, subset: v2 } }]
  - match: [{ uri: { prefix: /beta/ } }]
    route: [{ destination: { host: hello, subset: v2 } }]
  - match: [{ uri: { regex: "/api/v[0-9]+/preview(/.*)?" } }]
    route: [{ destination: { host: hello, subset: v2 } }]
  - route:
    - { destination: { host: hello, subset: v1 }, weight: ${w1} }
    - { destination: { host: hello, subset: v2 }, weight: ${w2} }
`;

const HOST = 'hello:8080';

describe('a sidecar driven by the control plane', () => {
  const apps: Server[] = [];
  let config: Awaited<ReturnType<typeof configDir>>;
  let plane: ControlPlane;
  let sidecar: SidecarProcess;

  beforeAll(async () => {
    const [v1, v2] = await Promise.all([startApp('v1'), startApp('v2')]);
    apps.push(v1.server, v2.server);
    config = await configDir({ 'hello.yaml': service(v1.port, v2.port), 'hello-vs.yaml': routing(90, 10) });
    plane = await ControlPlane.start({ configDir: config.dir, xdsHost: '127.0.0.1', xdsPort: 0, debugHost: '127.0.0.1', debugPort: 0, apiHost: '127.0.0.1', apiPort: 0, debounceMs: 50 });
    sidecar = await startSidecar('127.0.120.1', `127.0.0.1:${plane.xdsPort}`);
  });

  afterAll(async () => {
    await sidecar?.stop();
    await plane?.close();
    for (const s of apps) s.close();
    await config?.remove();
  });

  test('a 90/10 split lands within ±3 points over 2000 requests', async () => {
    const counts = await tally(2000, () => sidecar.version(HOST));
    expect((counts.v1 ?? 0) + (counts.v2 ?? 0)).toBe(2000);
    expect(counts.v1! / 20).toBeGreaterThanOrEqual(87);
    expect(counts.v1! / 20).toBeLessThanOrEqual(93);
  });

  test('header, URI prefix and URI regex routes reach the v2 subset; the regex must match the whole path', async () => {
    expect(await tally(100, () => sidecar.version(HOST, '/', { 'x-canary': 'yes' }))).toEqual({ v2: 100 });
    expect(await tally(100, () => sidecar.version(HOST, '/beta/page'))).toEqual({ v2: 100 });
    expect(await tally(100, () => sidecar.version(HOST, '/api/v12/preview/items'))).toEqual({ v2: 100 });
    const notWhole = await tally(200, () => sidecar.version(HOST, '/api/v12/previews'));
    expect(notWhole.v1).toBeGreaterThan(150);
    expect(notWhole['HTTP 404']).toBeUndefined();
  });

  test('the other host forms route too, and an unknown host gets 404', async () => {
    for (const host of ['hello', 'hello.default:8080', 'hello.default.svc.cluster.local:8080']) {
      expect(['v1', 'v2']).toContain(await sidecar.version(host));
    }
    expect((await sidecar.call('nope.default:8080')).status).toBe(404);
  });

  test('through two sidecars (client outbound -> server inbound -> app): the app sees forwarding headers, not the mesh header', async () => {
    const app = await startApp('echo', '127.0.120.3', 18080);
    apps.push(app.server);
    await config.write('echo.yaml', `
apiVersion: v1
kind: Service
metadata: { name: echo, namespace: default }
spec: { selector: { app: echo }, ports: [{ name: http, port: 8080, targetPort: 18080 }] }
`);
    const server = await startSidecar('127.0.120.3', `127.0.0.1:${plane.xdsPort}`, {
      TRELLIS_POD_NAME: 'echo-0', TRELLIS_LABELS: 'app=echo', TRELLIS_APP_PORTS: 'http:18080',
    });
    try {
      const res = await eventually('echo reachable through both sidecars', async () => {
        const r = await sidecar.call('echo:8080', '/hi', { 'x-request-id': 'abc-123' });
        return r.status === 200 && (JSON.parse(r.body) as { version: string; headers: Record<string, string> });
      });
      expect(res.version).toBe('echo');
      expect(res.headers['x-request-id']).toBe('abc-123');
      expect(res.headers['x-forwarded-proto']).toBe('http');
      expect(res.headers['x-forwarded-for']).toBeDefined();
      expect(res.headers['x-trellis-inbound-port']).toBeUndefined();
      const clusters = await sidecar.adminText('/clusters');
      expect(clusters).toMatch(/^outbound\|8080\|\|echo\.default\.svc\.cluster\.local::127\.0\.120\.3:15006::/m);
    } finally {
      await server.stop();
    }
  });

  test('a VirtualService edit applies within 1 s and in-flight requests finish', async () => {
    const inFlight = Array.from({ length: 20 }, () => sidecar.call(HOST, '/slow?ms=600'));
    await new Promise((r) => setTimeout(r, 100));
    const start = performance.now();
    await config.write('hello-vs.yaml', routing(0, 100));
    let streak = 0;
    await eventually('20 calls in a row on v2', async () => ((await sidecar.version(HOST)) === 'v2' ? ++streak : (streak = 0)) >= 20, 5000);
    expect(performance.now() - start).toBeLessThan(1000);
    const finished = await Promise.all(inFlight);
    expect(finished.map((r) => r.status)).toEqual(Array(20).fill(200));
  });

  test('with the control plane down the sidecar keeps routing, then reconnects and picks up edits made meanwhile', async () => {
    const port = plane.xdsPort;
    await plane.close();
    expect(await tally(100, () => sidecar.version(HOST))).toEqual({ v2: 100 });

    await config.write('hello-vs.yaml', routing(100, 0));
    await new Promise((r) => setTimeout(r, 300));
    expect(await tally(50, () => sidecar.version(HOST))).toEqual({ v2: 50 });

    plane = await ControlPlane.start({ configDir: config.dir, xdsHost: '127.0.0.1', xdsPort: port, debugHost: '127.0.0.1', debugPort: 0, apiHost: '127.0.0.1', apiPort: 0, debounceMs: 50 });
    let streak = 0;
    await eventually('the edit made while down', async () => ((await sidecar.version(HOST)) === 'v1' ? ++streak : (streak = 0)) >= 20, 15_000);
    expect(sidecar.output()).toMatch(/control plane unreachable/);
  });
});

describe('a malformed xDS update', () => {
  const apps: Server[] = [];
  let config: Awaited<ReturnType<typeof configDir>>;
  let plane: ControlPlane;
  let xds: XdsServer;
  let sidecar: SidecarProcess;
  let broken = false;

  // A route config the sidecar can't run: the regex doesn't compile.
  const brokenRoutes: NamedResource[] = [{
    name: 'virtualOutbound',
    resource: { name: 'virtualOutbound', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { safe_regex: { regex: '(' } }, route: { cluster: 'outbound|8080||hello.default.svc.cluster.local' } }] }] },
  }];

  beforeAll(async () => {
    const [v1, v2] = await Promise.all([startApp('v1'), startApp('v2')]);
    apps.push(v1.server, v2.server);
    config = await configDir({ 'hello.yaml': service(v1.port, v2.port), 'hello-vs.yaml': routing(50, 50) });
    plane = await ControlPlane.start({ configDir: config.dir, xdsHost: '127.0.0.1', xdsPort: 0, debugHost: '127.0.0.1', debugPort: 0, apiHost: '127.0.0.1', apiPort: 0 });
    // The real translation, behind a switch that swaps in the broken route config.
    xds = new XdsServer({
      generate: (proxy, kind, names) =>
        broken && kind === 'route' ? brokenRoutes : generateResources({ ...plane.mesh(), proxy }, kind, names),
      identify: parseNode,
      debounceMs: 10,
    });
    const port = await xds.listen('127.0.0.1', 0);
    sidecar = await startSidecar('127.0.120.2', `127.0.0.1:${port}`);
  });

  afterAll(async () => {
    await sidecar?.stop();
    await xds?.close();
    await plane?.close();
    for (const s of apps) s.close();
    await config?.remove();
  });

  test('is NACKed with the reason, and the old routes keep serving', async () => {
    const before = await tally(200, () => sidecar.version(HOST));
    expect(before.v1! + before.v2!).toBe(200);

    broken = true;
    xds.pushNow('test');
    const nack = await eventually('a NACK for RDS', () => xds.status()[0]?.types.route.lastNack);
    expect(nack.message).toMatch(/virtualOutbound/);
    expect(nack.message).toMatch(/regex/i);
    expect(xds.status()[0]!.types.route.state).toBe('STALE');

    const after = await tally(200, () => sidecar.version(HOST));
    expect(after.v1! + after.v2!).toBe(200);
    expect(await tally(50, () => sidecar.version(HOST, '/beta/x'))).toEqual({ v2: 50 });
  });
});
