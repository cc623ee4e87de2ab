import { afterEach, describe, expect, it } from 'vitest';
import { sidecarIdentity, toXdsNode } from '../../src/bootstrap/identity.js';
import { ConfigRejected, type RawSnapshot } from '../../src/config/raw-snapshot.js';
import { edsCluster, inlineRouteListener, loadAssignment, rdsListener, routeConfig, staticCluster } from './fixtures.js';
import { ClientFixture, ControlPlaneFixture, meshResources, names, sleep, waitFor } from './harness.js';

const OUTBOUND_A = 'outbound|80||a.default.svc.cluster.local';
const OUTBOUND_B = 'outbound|80||b.default.svc.cluster.local';

function bookMesh() {
  return meshResources({
    listener: [rdsListener('0.0.0.0_80', 80, '80'), inlineRouteListener('virtualInbound', 15006, 'inbound|9080||')],
    route: [routeConfig('80', OUTBOUND_A), routeConfig('8080', OUTBOUND_B), routeConfig('unreferenced', OUTBOUND_A)],
    cluster: [edsCluster(OUTBOUND_A), staticCluster('inbound|9080||')],
    endpoint: [
      loadAssignment(OUTBOUND_A, ['127.0.1.1', 9080], ['127.0.1.2', 9080]),
      loadAssignment(OUTBOUND_B, ['127.0.2.1', 9080]),
      loadAssignment('unreferenced', ['127.0.3.1', 9080]),
    ],
  });
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function startServer(mesh = bookMesh(), port = 0): Promise<ControlPlaneFixture> {
  const cp = new ControlPlaneFixture(mesh);
  await cp.listen(port);
  cleanups.push(() => cp.server.close());
  return cp;
}

function startClient(port: number, options: ConstructorParameters<typeof ClientFixture>[1] = {}): ClientFixture {
  const c = new ClientFixture(port, options);
  cleanups.push(() => c.client.close());
  c.client.start();
  return c;
}

async function syncedClient(): Promise<{ cp: ControlPlaneFixture; c: ClientFixture }> {
  const cp = await startServer();
  const c = startClient(cp.port);
  await waitFor('ready', () => c.client.ready);
  await waitFor('all types ACKed', () => allSynced(cp));
  return { cp, c };
}

function allSynced(cp: ControlPlaneFixture): boolean {
  const s = cp.server.status();
  return s.length === 1 && Object.values(s[0]!.types).every((t) => t.state === 'SYNCED');
}

describe('AdsClient: initial subscription', () => {
  it('gets all listeners and clusters, then exactly the routes and endpoints they name, then is ready', async () => {
    const cp = await startServer();
    const c = startClient(cp.port);
    expect(c.client.ready).toBe(false);
    await waitFor('ready', () => c.readyCount === 1);

    // Ready only when every named route and endpoint set had arrived.
    const atReady = c.snapshotAtReady!;
    expect(names(atReady, 'listener')).toEqual(['0.0.0.0_80', 'virtualInbound']);
    expect(names(atReady, 'cluster')).toEqual(['inbound|9080||', OUTBOUND_A]);
    expect(names(atReady, 'route')).toEqual(['80']);
    expect(names(atReady, 'endpoint')).toEqual([OUTBOUND_A]);

    // LDS/CDS wildcard; RDS/EDS by the names found in the HCM and in eds_cluster_config.
    expect(cp.generated.filter((g) => g.kind === 'listener').every((g) => g.names === null)).toBe(true);
    expect(cp.generated.filter((g) => g.kind === 'cluster').every((g) => g.names === null)).toBe(true);
    expect(cp.generated.filter((g) => g.kind === 'route').map((g) => g.names)).toEqual([['80']]);
    expect(cp.generated.filter((g) => g.kind === 'endpoint').map((g) => g.names)).toEqual([[OUTBOUND_A]]);

    await waitFor('all types ACKed', () => allSynced(cp));
    const server = cp.proxyStatus().types;
    const client = c.client.status();
    for (const kind of ['listener', 'route', 'cluster', 'endpoint'] as const) {
      expect(client[kind].version).toBe(server[kind].sentVersion);
      expect(server[kind].ackedVersion).toBe(server[kind].sentVersion);
      expect(client[kind].nonce).toBe(server[kind].sentNonce);
      expect(client[kind].lastError).toBeUndefined();
    }
    expect(server.route.subscribed).toEqual(['80']);
    expect(server.endpoint.subscribed).toEqual([OUTBOUND_A]);
    expect(server.listener.subscribed).toBe('*');
    expect(client.route.names).toEqual(['80']);
    expect(client.listener.names).toBe('*');

    // Decoded in object form, nested Anys with @type.
    const snap = c.client.snapshot();
    const listener = snap.resources.listener.get('0.0.0.0_80') as any;
    expect(listener.filter_chains[0].filters[0].typed_config.rds.route_config_name).toBe('80');
    expect(listener.filter_chains[0].filters[0].typed_config['@type']).toMatch(/HttpConnectionManager$/);
    const cla = snap.resources.endpoint.get(OUTBOUND_A) as any;
    expect(cla.endpoints[0].lb_endpoints.map((e: any) => e.endpoint.address.socket_address.address)).toEqual([
      '127.0.1.1',
      '127.0.1.2',
    ]);
    expect(c.updates.at(-1)).toBe(snap);
    expect(c.connection).toEqual([true]);
    expect(c.readyCount).toBe(1);
  });

  it('uses eds_cluster_config.service_name for EDS, and the cluster name when it is empty', async () => {
    const mesh = meshResources({
      listener: [rdsListener('l', 80, '80')],
      route: [routeConfig('80', 'c1')],
      cluster: [edsCluster('c1', 'svc-one'), { ...edsCluster('c2'), eds_cluster_config: { eds_config: { ads: {} } } }],
      endpoint: [loadAssignment('svc-one', ['127.0.0.5', 80]), loadAssignment('c2', ['127.0.0.6', 80])],
    });
    const cp = await startServer(mesh);
    const c = startClient(cp.port);
    await waitFor('ready', () => c.client.ready);
    expect(names(c.client.snapshot(), 'endpoint')).toEqual(['c2', 'svc-one']);
  });

  it('waits for a named route the server never sends until the initial fetch timeout', async () => {
    const mesh = bookMesh();
    mesh.route.delete('80');
    const cp = await startServer(mesh);
    const c = startClient(cp.port, { initialFetchTimeoutMs: 400 });
    await waitFor('LDS and CDS accepted', () => c.client.status().listener.version !== '' && c.client.status().cluster.version !== '');
    await sleep(100);
    expect(c.client.ready).toBe(false);
    await waitFor('ready after the timeout', () => c.client.ready, 2000);
    expect(c.logs.some((l) => l.includes('initial fetch timed out') && l.includes('route 80'))).toBe(true);
  });
});

describe('AdsClient: node', () => {
  it("carries the sidecar's identity to the control plane in the first request's node metadata", async () => {
    const identity = sidecarIdentity({
      TRELLIS_NAMESPACE: 'bookinfo',
      TRELLIS_POD_NAME: 'reviews-v2-0',
      TRELLIS_WORKLOAD: 'reviews-v2',
      TRELLIS_LABELS: 'app=reviews,version=v2',
      TRELLIS_POD_IP: '127.0.1.9',
      TRELLIS_APP_PORTS: 'http:9080,grpc:9090',
    });
    const cp = await startServer();
    const c = startClient(cp.port, { node: toXdsNode(identity) });
    await waitFor('ready', () => c.client.ready);

    expect(cp.nodes).toHaveLength(1);
    expect(cp.server.proxies()).toEqual([
      {
        id: 'sidecar~127.0.1.9~reviews-v2-0.bookinfo~bookinfo.svc.cluster.local',
        type: 'sidecar',
        namespace: 'bookinfo',
        podName: 'reviews-v2-0',
        workloadName: 'reviews-v2',
        labels: { app: 'reviews', version: 'v2' },
        ips: ['127.0.1.9'],
        ports: [
          { name: 'http', containerPort: 9080, protocol: 'TCP' },
          { name: 'grpc', containerPort: 9090, protocol: 'TCP' },
        ],
        listenerPorts: { outbound: 15001, inbound: 15006 },
      },
    ]);
    expect(cp.nodes[0]!.cluster).toBe('reviews-v2.bookinfo');
  });
});

describe('AdsClient: NACK', () => {
  it('NACKs what validate rejects, keeps its snapshot and serving, and accepts a later valid push', async () => {
    const { cp, c } = await syncedClient();
    const before = c.client.snapshot();
    const updatesBefore = c.updates.length;
    const ackedBefore = cp.proxyStatus().types.cluster.ackedVersion;
    c.validate = (candidate: RawSnapshot) => {
      if (candidate.resources.cluster.has('bad')) throw new ConfigRejected('cluster', 'bad', 'connect_timeout', 'must be positive');
    };

    cp.mesh.cluster.set('bad', staticCluster('bad'));
    cp.server.pushNow('test');
    await waitFor('NACK recorded by the server', () => cp.proxyStatus().types.cluster.lastNack !== undefined);

    const cds = cp.proxyStatus().types.cluster;
    expect(cds.lastNack!.message).toBe('cluster bad: connect_timeout: must be positive');
    expect(cds.lastNack!.nonce).toBe(cds.sentNonce);
    expect(cds.state).toBe('STALE');
    expect(cds.ackedVersion).toBe(ackedBefore);
    expect(c.client.snapshot()).toBe(before);
    expect(c.updates.length).toBe(updatesBefore);
    const status = c.client.status().cluster;
    expect(status.version).toBe(ackedBefore);
    expect(status.lastError?.message).toBe('cluster bad: connect_timeout: must be positive');
    expect(status.lastError?.version).toBe(cds.sentVersion);
    // The NACK carries the previously accepted version and the rejected response's nonce.
    expect(c.trace).toContain(
      `-> CDS version=${ackedBefore} nonce=${cds.sentNonce} names=* NACK: cluster bad: connect_timeout: must be positive`,
    );

    // Still serving: an EDS change for an accepted cluster goes through.
    cp.mesh.endpoint.set(OUTBOUND_A, loadAssignment(OUTBOUND_A, ['127.0.9.9', 9080]));
    cp.server.pushNow('test');
    await waitFor('EDS update', () => {
      const cla = c.client.snapshot().resources.endpoint.get(OUTBOUND_A) as any;
      return cla.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address === '127.0.9.9';
    });
    expect(c.client.snapshot().resources.cluster.has('bad')).toBe(false);

    cp.mesh.cluster.delete('bad');
    cp.mesh.cluster.set('good', staticCluster('good'));
    cp.server.pushNow('test');
    await waitFor('good cluster accepted', () => c.client.snapshot().resources.cluster.has('good'));
    await waitFor('CDS synced', () => cp.proxyStatus().types.cluster.state === 'SYNCED');
    expect(cp.proxyStatus().types.cluster.lastNack).toBeUndefined();
    expect(c.client.status().cluster.lastError).toBeUndefined();
    expect(c.client.status().cluster.version).toBe(cp.proxyStatus().types.cluster.sentVersion);
  });

  it('NACKs resources that fail their own checks, naming resource and field, without calling validate', async () => {
    const { cp, c } = await syncedClient();
    const seen: string[][] = [];
    c.validate = (candidate) => seen.push([...candidate.resources.cluster.keys()]);
    const before = c.client.snapshot();

    cp.mesh.cluster.set('weird', { name: 'weird', type: 99 });
    cp.mesh.listener.set('no-address', { name: 'no-address', filter_chains: [] });
    cp.server.pushNow('test');
    await waitFor('CDS NACK', () => cp.proxyStatus().types.cluster.lastNack !== undefined);
    await waitFor('LDS NACK', () => cp.proxyStatus().types.listener.lastNack !== undefined);

    expect(cp.proxyStatus().types.cluster.lastNack!.message).toBe('cluster weird: type: unknown discovery type 99');
    expect(cp.proxyStatus().types.listener.lastNack!.message).toBe(
      'listener no-address: address: a listener needs an address (or an api_listener)',
    );
    expect(seen).toEqual([]);
    expect(c.client.snapshot()).toBe(before);
  });
});

describe('AdsClient: subscriptions follow the config', () => {
  it('resubscribes RDS when a listener names another route, and drops what nothing references', async () => {
    const { cp, c } = await syncedClient();
    cp.mesh.listener.set('0.0.0.0_80', rdsListener('0.0.0.0_80', 80, '8080'));
    cp.server.pushNow('test');
    await waitFor('route 8080', () => c.client.snapshot().resources.route.has('8080'));

    expect(names(c.client.snapshot(), 'route')).toEqual(['8080']);
    await waitFor('RDS synced', () => cp.proxyStatus().types.route.state === 'SYNCED');
    expect(cp.proxyStatus().types.route.subscribed).toEqual(['8080']);
    expect(cp.generated.filter((g) => g.kind === 'route').at(-1)!.names).toEqual(['8080']);
    // The resubscription carried the accepted RDS version and the last RDS nonce.
    const rdsVersion = cp.proxyStatus().types.route.ackedVersion;
    expect(c.trace.some((t) => /^-> RDS version=\S+ nonce=\S+ names=8080$/.test(t))).toBe(true);
    expect(rdsVersion).toBe(c.client.status().route.version);

    // A second EDS cluster adds its name; removing the first drops its endpoints and name.
    cp.mesh.cluster.set(OUTBOUND_B, edsCluster(OUTBOUND_B));
    cp.server.pushNow('test');
    await waitFor('endpoints of b', () => c.client.snapshot().resources.endpoint.has(OUTBOUND_B));
    await waitFor('EDS subscribed to both', () => cp.proxyStatus().types.endpoint.subscribed.length === 2);

    cp.mesh.cluster.delete(OUTBOUND_A);
    cp.server.pushNow('test');
    await waitFor('a dropped', () => !c.client.snapshot().resources.endpoint.has(OUTBOUND_A));
    expect(names(c.client.snapshot(), 'endpoint')).toEqual([OUTBOUND_B]);
    await waitFor('EDS subscription is b only', () => {
      const sub = cp.proxyStatus().types.endpoint.subscribed;
      return Array.isArray(sub) && sub.length === 1 && sub[0] === OUTBOUND_B;
    });

    // The last EDS cluster gone: the EDS subscription ends.
    cp.mesh.cluster.delete(OUTBOUND_B);
    cp.server.pushNow('test');
    await waitFor('no endpoints', () => c.client.snapshot().resources.endpoint.size === 0);
    await waitFor('EDS unsubscribed', () => cp.proxyStatus().types.endpoint.state === 'NOT SENT');
    expect(cp.proxyStatus().types.endpoint.subscribed).toEqual([]);
    expect(c.client.status().endpoint.names).toEqual([]);
  });
});

describe('AdsClient: connection loss', () => {
  it('keeps its snapshot while the server is down, reconnects with backoff, and gets what changed', async () => {
    const { cp, c } = await syncedClient();
    const port = cp.port;
    const before = c.client.snapshot();
    const versions = { ...before.versions };
    const updatesBefore = c.updates.length;

    await cp.server.close();
    await waitFor('disconnect seen', () => c.connection.at(-1) === false);
    await sleep(500);
    // Several failed attempts, spaced by growing delays capped at maxMs; no empty config meanwhile.
    const delays = c.logs.map((l) => /reconnecting in (\d+)ms/.exec(l)?.[1]).filter(Boolean).map(Number);
    expect(delays.length).toBeGreaterThanOrEqual(3);
    expect(delays.every((d) => d <= 400)).toBe(true);
    expect(delays[0]).toBeLessThanOrEqual(60);
    expect(delays[2]!).toBeGreaterThan(delays[0]!);
    expect(c.client.snapshot()).toBe(before);
    expect(c.updates.length).toBe(updatesBefore);
    expect(c.client.ready).toBe(true);

    // Changes made while the proxy was away.
    const mesh = bookMesh();
    mesh.endpoint.set(OUTBOUND_A, loadAssignment(OUTBOUND_A, ['127.0.7.7', 9080]));
    mesh.listener.set('0.0.0.0_90', rdsListener('0.0.0.0_90', 90, '8080'));
    const traceMark = c.trace.length;
    const cp2 = await startServer(mesh, port);
    await waitFor('new listener and its route', () => c.client.snapshot().resources.route.has('8080'), 5000);
    await waitFor('new endpoints', () => {
      const cla = c.client.snapshot().resources.endpoint.get(OUTBOUND_A) as any;
      return cla.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address === '127.0.7.7';
    });
    expect(c.connection.at(-1)).toBe(true);
    expect(names(c.client.snapshot(), 'listener')).toEqual(['0.0.0.0_80', '0.0.0.0_90', 'virtualInbound']);

    // The new stream opened with what the proxy had: accepted versions, no nonces, the same names.
    const firstRequests = c.trace.slice(traceMark).filter((t) => t.startsWith('->') && t.includes('nonce= '));
    expect(firstRequests).toEqual(
      expect.arrayContaining([
        `-> CDS version=${versions.cluster} nonce= names=*`,
        `-> EDS version=${versions.endpoint} nonce= names=${OUTBOUND_A}`,
        `-> LDS version=${versions.listener} nonce= names=*`,
        `-> RDS version=${versions.route} nonce= names=80`,
      ]),
    );
    // RDS and EDS were asked for by name at once, before any response on the new stream.
    const after = c.trace.slice(traceMark);
    const firstResponse = after.findIndex((t) => t.startsWith('<-'));
    expect(after.indexOf(`-> RDS version=${versions.route} nonce= names=80`)).toBeLessThan(firstResponse);
    expect(after.indexOf(`-> EDS version=${versions.endpoint} nonce= names=${OUTBOUND_A}`)).toBeLessThan(firstResponse);
    expect(cp2.generated.find((g) => g.kind === 'route')!.names).toEqual(['80']);
    await waitFor('synced with the new server', () => allSynced(cp2));
  });

  it('close() ends the stream and stops reconnecting', async () => {
    const { cp, c } = await syncedClient();
    c.client.close();
    await waitFor('server sees the proxy leave', () => cp.server.status().length === 0);
    const connects = cp.nodes.length;
    await sleep(300);
    expect(cp.nodes.length).toBe(connects);
    expect(c.client.snapshot().resources.listener.size).toBe(2);
  });
});
