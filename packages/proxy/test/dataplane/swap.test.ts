import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigRejected } from '../../src/config/raw-snapshot.js';
import { eventually, request, startSidecar, type RunningSidecar } from './helpers/client.js';
import { cla, edsCluster, listener, routeConfig, snapshot, toCluster, vhost, type SnapshotSpec } from './helpers/resources.js';
import { closedPort, echoServer, type Echo, type TestServer } from './helpers/servers.js';

let slowA: TestServer & { server: import('node:http').Server };
let b: TestServer & { server: import('node:http').Server };
let proxy: RunningSidecar;
let connectionsToB = 0;
let openToA = 0;

const echo = (body: string) => JSON.parse(body) as Echo;

function spec(target: 'a' | 'b', version: string, extra: Partial<SnapshotSpec> = {}): SnapshotSpec {
  return {
    version,
    listeners: [listener('virtualOutbound', 15001, 'r'), listener('virtualInbound', 15006, 'inbound')],
    routes: [
      routeConfig('r', [vhost('svc', ['svc'], [toCluster({ prefix: '/' }, target)])]),
      routeConfig('inbound', [vhost('inbound', ['*'], [toCluster({ prefix: '/' }, 'b')])]),
    ],
    clusters: [...(target === 'a' ? [edsCluster('a')] : []), edsCluster('b')],
    endpoints: [...(target === 'a' ? [cla('a', [{ port: slowA.port }])] : []), cla('b', [{ port: b.port }])],
    ...extra,
  };
}

beforeAll(async () => {
  slowA = await echoServer('a', (req, res) => setTimeout(() => res.end(JSON.stringify({ name: 'a', url: req.url })), 400));
  b = await echoServer('b');
  b.server.on('connection', () => connectionsToB++);
  slowA.server.on('connection', (socket) => {
    openToA++;
    socket.on('close', () => openToA--);
  });
  proxy = await startSidecar(snapshot(spec('a', '1')));
});

afterAll(async () => {
  await proxy.close();
  await Promise.all([slowA.close(), b.close()]);
});

describe('snapshot swaps', () => {
  it('finishes in-flight requests on the old snapshot while new ones use the new one', async () => {
    const inFlight = Array.from({ length: 10 }, (_, i) => request(proxy.port, `/old/${i}`, { headers: { host: 'svc' } }));
    await eventually(() => proxy.sidecar.current.clusters.get('a')!.hosts.allHosts[0]!.stats.rqActive === 10, 3000, 'requests in flight');
    proxy.sidecar.apply(snapshot(spec('b', '2')));
    expect(proxy.sidecar.current.clusters.has('a')).toBe(false);
    const fresh = await request(proxy.port, '/new', { headers: { host: 'svc' } });
    expect(echo(fresh.body).name).toBe('b');
    const old = await Promise.all(inFlight);
    old.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(echo(r.body)).toEqual({ name: 'a', url: `/old/${i}` });
    });
    // The removed endpoint's pool closes its connections once its requests are done.
    await eventually(() => openToA === 0, 3000, 'the old pool to close its connections');
  });

  it('keeps upstream keep-alive connections of unchanged endpoints across swaps', async () => {
    await request(proxy.port, '/warm', { headers: { host: 'svc' } });
    const before = connectionsToB;
    for (let v = 3; v < 6; v++) {
      proxy.sidecar.apply(snapshot(spec('b', String(v))));
      expect((await request(proxy.port, '/', { headers: { host: 'svc' } })).status).toBe(200);
    }
    expect(connectionsToB).toBe(before);
  });

  it('refuses a config it cannot run and keeps serving the previous one', async () => {
    const bad = spec('b', 'bad', { clusters: [edsCluster('b', { lb: 'CLUSTER_PROVIDED' })] });
    expect(() => proxy.sidecar.apply(snapshot(bad))).toThrow(ConfigRejected);
    try {
      proxy.sidecar.apply(snapshot(bad));
    } catch (e) {
      const err = e as ConfigRejected;
      expect([err.kind, err.resource, err.field]).toEqual(['cluster', 'b', 'lb_policy']);
      expect(err.message).toBe('cluster b: lb_policy: lb_policy CLUSTER_PROVIDED is not supported');
    }
    expect(proxy.sidecar.current.config.raw.versions.cluster).not.toBe('bad');
    expect(echo((await request(proxy.port, '/', { headers: { host: 'svc' } })).body).name).toBe('b');
  });

  it('opens listeners that appear and closes the ones that go away', async () => {
    const port = await closedPort();
    const withExtra = spec('b', '10');
    withExtra.listeners!.push(listener('extra', port, 'r'));
    proxy.sidecar.apply(snapshot(withExtra));
    await proxy.sidecar.settled();
    expect(proxy.sidecar.listenerAddress('extra')).toEqual({ address: '127.0.0.1', port });
    expect(echo((await request(port, '/', { headers: { host: 'svc' }, agent: false })).body).name).toBe('b');
    proxy.sidecar.apply(snapshot(spec('b', '11')));
    expect(proxy.sidecar.listenerAddress('extra')).toBeUndefined();
    await expect(request(port, '/', { headers: { host: 'svc' }, agent: false })).rejects.toThrow(/ECONNREFUSED/);
  });

  it('serves the inbound listener on its own port', async () => {
    const inbound = proxy.sidecar.listenerAddress('virtualInbound')!;
    expect(inbound.port).not.toBe(proxy.port);
    const r = await request(inbound.port, '/app', { headers: { host: 'anything' } });
    expect(echo(r.body).name).toBe('b');
  });
});

describe('graceful close', () => {
  it('stops accepting, lets in-flight requests finish, then closes', async () => {
    const own = await startSidecar(snapshot(spec('a', '1')));
    const inFlight = request(own.port, '/slow', { headers: { host: 'svc' }, agent: false });
    await eventually(() => own.sidecar.current.clusters.get('a')!.hosts.allHosts[0]!.stats.rqActive === 1, 3000, 'the request upstream');
    const closing = own.sidecar.close(3000);
    await expect(request(own.port, '/new', { headers: { host: 'svc' }, agent: false })).rejects.toThrow(/ECONNREFUSED/);
    const r = await inFlight;
    expect(r.status).toBe(200);
    expect(echo(r.body).name).toBe('a');
    await closing;
    expect(own.sidecar.isReady).toBe(false);
  });
});
