import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TYPE_URL } from '@trellis/envoy-api';
import { decodeResources, resourceNames } from '../helpers/ads-client.js';
import { eventually, metricValue, startHarness, type Harness } from './fixtures.js';

const POD = 'reviews-v1-0';
const NODE_ID = 'sidecar~127.0.1.2~reviews-v1-0.default~default.svc.cluster.local';

describe('XdsServer ADS protocol (state of the world)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const typeStatus = (kind: 'cluster' | 'endpoint' | 'listener' | 'route') => h.server.status()[0]!.types[kind];

  it('answers the first request of a type with its resources, packed as that type', async () => {
    const c = h.connect(POD);
    c.subscribe('cluster');
    const res = await c.next();

    expect(res.type_url).toBe(TYPE_URL.cluster);
    expect(res.version_info).toMatch(/^[0-9a-f]{16}$/);
    expect(res.nonce).not.toBe('');
    expect(res.control_plane?.identifier).toBe('trellis');
    expect(res.resources.every((r) => r.type_url === TYPE_URL.cluster)).toBe(true);
    const clusters = decodeResources(res);
    expect(clusters.map((x) => x.name)).toEqual([
      'outbound|9080||reviews.default.svc.cluster.local',
      'outbound|9080||ratings.default.svc.cluster.local',
    ]);
    expect(clusters[0]).toMatchObject({ type: 'EDS', connect_timeout: { seconds: 1 } });
    // The wildcard subscription reached the generator as names = null.
    expect(h.mesh.calls).toEqual([{ proxy: POD, kind: 'cluster', names: null }]);
  });

  it('records an ACK: acked version = version_info, state SYNCED', async () => {
    const c = h.connect(POD);
    c.subscribe('listener');
    const res = await c.next();
    expect(typeStatus('listener')).toMatchObject({ sentVersion: res.version_info, sentNonce: res.nonce, state: 'STALE' });
    expect(typeStatus('listener').ackedVersion).toBeUndefined();

    c.ack(res);
    await eventually(() => typeStatus('listener').state === 'SYNCED');
    const s = typeStatus('listener');
    expect(s.ackedVersion).toBe(res.version_info);
    expect(s.ackedNonce).toBe(res.nonce);
    expect(s.subscribed).toBe('*');
    expect(Date.parse(s.ackedAt!)).toBeGreaterThanOrEqual(Date.parse(s.sentAt!));
    // A plain ACK gets no response.
    await c.expectNothing();
    // Types never requested are NOT SENT.
    expect(typeStatus('route')).toMatchObject({ state: 'NOT SENT', subscribed: [] });
  });

  it('records a NACK, counts it, does not resend, and sends the next changed content', async () => {
    const c = h.connect(POD);
    c.subscribe('cluster');
    const v1 = await c.next();
    c.ack(v1);
    await eventually(() => typeStatus('cluster').state === 'SYNCED');

    h.mesh.generation = 2;
    h.server.pushNow('config');
    const v2 = await c.next();
    expect(v2.version_info).not.toBe(v1.version_info);
    expect(decodeResources(v2)[0]).toMatchObject({ connect_timeout: { seconds: 2 } });

    c.nack(v2, v1.version_info, 'cluster outbound|9080||reviews: bad connect_timeout');
    await eventually(() => typeStatus('cluster').lastNack !== undefined);
    const s = typeStatus('cluster');
    expect(s.state).toBe('STALE');
    expect(s.ackedVersion).toBe(v1.version_info);
    expect(s.sentVersion).toBe(v2.version_info);
    expect(s.lastNack).toMatchObject({
      version: v2.version_info,
      nonce: v2.nonce,
      message: 'cluster outbound|9080||reviews: bad connect_timeout',
    });
    expect(await metricValue(h.registry, 'pilot_total_xds_rejects', { type: 'cds' })).toBe(1);
    expect(h.logs.some((l) => l.includes('NACK') && l.includes('bad connect_timeout'))).toBe(true);

    // Neither the NACK nor a push with the same content resends the rejected version.
    await c.expectNothing();
    expect(h.server.pushNow('config').responses).toBe(0);
    await c.expectNothing(100);

    h.mesh.generation = 3;
    h.server.pushNow('config');
    const v3 = await c.next();
    expect(decodeResources(v3)[0]).toMatchObject({ connect_timeout: { seconds: 3 } });
    c.ack(v3);
    await eventually(() => typeStatus('cluster').state === 'SYNCED');
    expect(typeStatus('cluster').ackedVersion).toBe(v3.version_info);
    expect(typeStatus('cluster').lastNack).toBeUndefined();
  });

  it('ignores a request with a stale nonce: no response, no state change', async () => {
    const c = h.connect(POD);
    c.subscribe('cluster');
    const v1 = await c.next();
    h.mesh.generation = 2;
    h.server.pushNow('config');
    const v2 = await c.next();

    // The ACK of v1 arrives after v2 was sent, even with a new subscription: stale.
    c.ack(v1, ['outbound|9080||reviews.default.svc.cluster.local']);
    await c.expectNothing(300);
    const s = typeStatus('cluster');
    expect(s.ackedVersion).toBeUndefined();
    expect(s.sentNonce).toBe(v2.nonce);
    expect(s.subscribed).toBe('*');
    expect(await metricValue(h.registry, 'pilot_xds_expired_nonce', { type: 'cds' })).toBe(1);

    c.ack(v2);
    await eventually(() => typeStatus('cluster').state === 'SYNCED');
  });

  it('resends when resource_names change, with the new set', async () => {
    const c = h.connect(POD);
    c.subscribe('endpoint', ['outbound|9080||reviews.default.svc.cluster.local']);
    const r1 = await c.next();
    expect(r1.type_url).toBe(TYPE_URL.endpoint);
    expect(resourceNames(r1)).toEqual(['outbound|9080||reviews.default.svc.cluster.local']);
    expect(h.mesh.calls.at(-1)?.names).toEqual(['outbound|9080||reviews.default.svc.cluster.local']);

    // Envoy ACKs and widens the subscription in one request (a new cluster appeared).
    c.ack(r1, ['outbound|9080||reviews.default.svc.cluster.local', 'outbound|9080||ratings.default.svc.cluster.local']);
    const r2 = await c.next();
    expect(resourceNames(r2).sort()).toEqual([
      'outbound|9080||ratings.default.svc.cluster.local',
      'outbound|9080||reviews.default.svc.cluster.local',
    ]);
    expect(r2.version_info).not.toBe(r1.version_info);
    expect(r2.nonce).not.toBe(r1.nonce);
    // The ACK in that request counted for r1.
    expect(typeStatus('endpoint')).toMatchObject({ ackedNonce: r1.nonce, sentNonce: r2.nonce, state: 'STALE' });
    expect(typeStatus('endpoint').subscribed).toEqual([
      'outbound|9080||ratings.default.svc.cluster.local',
      'outbound|9080||reviews.default.svc.cluster.local',
    ]);

    // Same names again (order differs): a plain ACK.
    c.ack(r2, ['outbound|9080||reviews.default.svc.cluster.local', 'outbound|9080||ratings.default.svc.cluster.local']);
    await c.expectNothing();
    expect(typeStatus('endpoint').state).toBe('SYNCED');
  });

  it('treats LDS/CDS with no names or "*" as wildcard, and named LDS/CDS as named', async () => {
    const wild = h.connect(POD);
    wild.subscribe('cluster', ['*']);
    expect(resourceNames(await wild.next())).toHaveLength(2);
    expect(h.mesh.calls.at(-1)).toMatchObject({ kind: 'cluster', names: null });

    const named = h.connect('ratings-v1-0');
    named.subscribe('cluster', ['outbound|9080||ratings.default.svc.cluster.local', 'nonexistent']);
    const res = await named.next();
    expect(resourceNames(res)).toEqual(['outbound|9080||ratings.default.svc.cluster.local']);
    expect(h.mesh.calls.at(-1)?.names).toEqual(['nonexistent', 'outbound|9080||ratings.default.svc.cluster.local']);
    const s = h.server.status().find((p) => p.identity.podName === 'ratings-v1-0')!;
    expect(s.types.cluster.subscribed).toEqual(['nonexistent', 'outbound|9080||ratings.default.svc.cluster.local']);
  });

  it('sends nothing for RDS/EDS requests with no names, and stops pushing an unsubscribed type', async () => {
    const c = h.connect(POD);
    c.subscribe('route', []);
    await c.expectNothing();
    expect(typeStatus('route').state).toBe('NOT SENT');

    c.send({ type_url: TYPE_URL.route, resource_names: ['9080'] });
    const r = await c.next();
    expect(resourceNames(r)).toEqual(['9080']);
    c.ack(r, []); // the last listener referencing route 9080 went away
    await c.expectNothing();
    h.mesh.generation = 2;
    expect(h.server.pushNow('config').responses).toBe(0);
    await c.expectNothing(100);
  });

  it('ignores unknown type URLs but keeps serving the stream', async () => {
    const c = h.connect(POD);
    c.send({ type_url: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret', resource_names: ['default'] });
    await c.expectNothing();
    expect(h.logs.some((l) => l.includes('unsupported type') && l.includes('tls.v3.Secret'))).toBe(true);
    c.subscribe('listener');
    expect((await c.next()).type_url).toBe(TYPE_URL.listener);
  });

  it('rejects a stream whose first request has no node with INVALID_ARGUMENT', async () => {
    const c = h.connect(POD);
    c.node.id = '';
    c.subscribe('cluster');
    const status = await c.status;
    expect(status.code).toBe(3);
    expect(status.details).toContain('missing node');
    expect(h.server.status()).toEqual([]);
  });

  it('identifies the proxy from the first request and lists it in status()', async () => {
    const c = h.connect(POD, 'default');
    c.subscribe('listener');
    await c.next();
    const [s] = h.server.status();
    expect(s).toMatchObject({
      id: NODE_ID,
      identity: { namespace: 'default', podName: POD, type: 'sidecar', workloadName: 'reviews-v1' },
    });
    expect(Date.parse(s!.connectedAt)).toBeLessThanOrEqual(Date.now());
    expect(await metricValue(h.registry, 'pilot_xds')).toBe(1);
  });
});
