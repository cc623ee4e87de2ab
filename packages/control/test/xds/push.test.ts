import { afterEach, describe, expect, it } from 'vitest';
import { TYPE_URL } from '@trellis/envoy-api';
import type { ProxyIdentity } from '../../src/registry/proxy-identity.js';
import type { ConnectionEvent } from '../../src/xds/server.js';
import { decodeResources, resourceNames } from '../helpers/ads-client.js';
import { eventually, metricValue, startHarness, type Harness } from './fixtures.js';

describe('XdsServer pushes', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('sends a new version after the generator output changes, and nothing when it does not', async () => {
    h = await startHarness();
    const c = h.connect('reviews-v1-0');
    c.subscribe('cluster');
    c.subscribe('listener');
    const cds = await c.next();
    const lds = await c.next();
    expect([cds.type_url, lds.type_url]).toEqual([TYPE_URL.cluster, TYPE_URL.listener]);
    c.ack(cds);
    c.ack(lds);

    // Unchanged output: nothing sent.
    expect(h.server.pushNow('config').responses).toBe(0);
    await c.expectNothing(200);

    // Clusters change, listeners don't: only CDS is sent.
    h.mesh.clusters = [...h.mesh.clusters, 'outbound|80||httpbin.org'];
    expect(h.server.pushNow('config')).toMatchObject({ proxies: 1, responses: 1 });
    const cds2 = await c.next();
    expect(cds2.type_url).toBe(TYPE_URL.cluster);
    expect(cds2.version_info).not.toBe(cds.version_info);
    expect(resourceNames(cds2)).toContain('outbound|80||httpbin.org');
    await c.expectNothing(200);
    expect(await metricValue(h.registry, 'pilot_xds_pushes', { type: 'cds' })).toBe(2);
    expect(await metricValue(h.registry, 'pilot_xds_pushes', { type: 'lds' })).toBe(1);
  });

  it('gives the same content the same version, whatever the resource order', async () => {
    h = await startHarness();
    const a = h.connect('reviews-v1-0');
    a.subscribe('cluster');
    const first = await a.next();
    h.mesh.clusters = [...h.mesh.clusters].reverse();
    expect(h.server.pushNow('reorder').responses).toBe(0);
    const b = h.connect('reviews-v1-1');
    b.subscribe('cluster');
    const second = await b.next();
    expect(resourceNames(second)).toEqual([...resourceNames(first)].reverse());
    expect(second.version_info).toBe(first.version_info);
  });

  it('coalesces push() calls within the debounce window into one push', async () => {
    h = await startHarness({ debounceMs: 300 });
    const c = h.connect('reviews-v1-0');
    c.subscribe('route', ['9080']);
    const r1 = await c.next();
    c.ack(r1, ['9080']);
    await eventually(() => h.server.status()[0]!.types.route.state === 'SYNCED');

    const callsBefore = h.mesh.calls.length;
    for (let g = 2; g <= 6; g++) {
      h.mesh.generation = g;
      h.server.push(`change-${g}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const lastTrigger = Date.now();
    const r2 = await c.next(2000);
    // Trailing debounce: nothing goes out until the window has been quiet for debounceMs.
    expect(Date.now() - lastTrigger).toBeGreaterThanOrEqual(280);
    expect(decodeResources(r2)[0]).toMatchObject({ virtual_hosts: [{ name: 'vh-9080-6' }] });
    await c.expectNothing(250);
    // One recompute for the five calls.
    expect(h.mesh.calls.length - callsBefore).toBe(1);
    expect(await metricValue(h.registry, 'pilot_push_triggers', { type: 'change-4' })).toBe(1);
    const convergence = await h.registry.getSingleMetric('pilot_proxy_convergence_time')!.get();
    const values = convergence.values as { metricName?: string; value: number }[];
    const count = values.find((v) => v.metricName === 'pilot_proxy_convergence_time_count')?.value;
    expect(count).toBe(1);
  });

  it('gives each proxy its own resources', async () => {
    h = await startHarness();
    const a = h.connect('reviews-v1-0');
    const b = h.connect('ratings-v1-0', 'shop');
    a.subscribe('listener');
    b.subscribe('listener');
    const [la, lb] = [decodeResources(await a.next())[0], decodeResources(await b.next())[0]];
    expect(la).toMatchObject({ name: '0.0.0.0_15001', stat_prefix: 'reviews-v1-0' });
    expect(lb).toMatchObject({ name: '0.0.0.0_15001', stat_prefix: 'ratings-v1-0' });

    const status = h.server.status();
    expect(status.map((s) => `${s.identity.podName}.${s.identity.namespace}`).sort()).toEqual([
      'ratings-v1-0.shop',
      'reviews-v1-0.default',
    ]);
    const versions = status.map((s) => s.types.listener.sentVersion);
    expect(versions[0]).not.toBe(versions[1]);
  });

  it('skips a resource that fails to encode, counts it, and still sends the rest', async () => {
    h = await startHarness();
    h.mesh.broken.add('outbound|9080||ratings.default.svc.cluster.local');
    const c = h.connect('reviews-v1-0');
    c.subscribe('cluster');
    const res = await c.next();
    expect(resourceNames(res)).toEqual(['outbound|9080||reviews.default.svc.cluster.local']);
    expect(await metricValue(h.registry, 'pilot_xds_pushes', { type: 'cds_builderr' })).toBe(1);
    expect(h.logs.some((l) => l.includes('ratings') && l.includes('no_such_field'))).toBe(true);

    // The stream is alive: the fixed resource arrives on the next push.
    h.mesh.broken.clear();
    h.server.pushNow('fix');
    expect(resourceNames(await c.next())).toHaveLength(2);
  });

  it('keeps the stream when the generator throws, and sends once it recovers', async () => {
    let failing = true;
    h = await startHarness({
      generate: (...args) => {
        if (failing) throw new Error('translation exploded');
        return h.mesh.generate(...args);
      },
    });
    const c = h.connect('reviews-v1-0');
    c.subscribe('cluster');
    await c.expectNothing();
    expect(h.logs.some((l) => l.includes('translation exploded'))).toBe(true);
    expect(await metricValue(h.registry, 'pilot_xds_pushes', { type: 'cds_builderr' })).toBe(1);
    failing = false;
    h.server.pushNow('retry');
    expect(resourceNames(await c.next())).toHaveLength(2);
  });

  it('emits connect and disconnect with the identity, and tracks pilot_xds', async () => {
    h = await startHarness();
    const events: [string, ProxyIdentity, ConnectionEvent][] = [];
    h.server.on('connect', (p, info) => events.push(['connect', p, info]));
    h.server.on('disconnect', (p, info) => events.push(['disconnect', p, info]));

    const c = h.connect('reviews-v1-0');
    c.subscribe('listener');
    await c.next();
    expect(events).toHaveLength(1);
    expect(events[0]![0]).toBe('connect');
    expect(events[0]![1]).toMatchObject({ podName: 'reviews-v1-0', namespace: 'default', type: 'sidecar' });
    expect(events[0]![2]).toMatchObject({ otherConnections: 0 });
    expect(await metricValue(h.registry, 'pilot_xds')).toBe(1);

    c.close();
    await eventually(() => events.length === 2);
    expect(events[1]![0]).toBe('disconnect');
    expect(events[1]![1].id).toBe(events[0]![1].id);
    expect(events[1]![2].connectionId).toBe(events[0]![2].connectionId);
    expect(h.server.status()).toEqual([]);
    expect(await metricValue(h.registry, 'pilot_xds')).toBe(0);
  });

  it('reports other open streams of the same node on disconnect (reconnects)', async () => {
    h = await startHarness();
    const disconnects: ConnectionEvent[] = [];
    h.server.on('disconnect', (_p, info) => disconnects.push(info));
    const old = h.connect('reviews-v1-0');
    old.subscribe('listener');
    await old.next();
    const fresh = h.connect('reviews-v1-0');
    fresh.subscribe('listener');
    await fresh.next();
    old.end();
    await eventually(() => disconnects.length === 1);
    expect(disconnects[0]!.otherConnections).toBe(1);
    expect(h.server.status()).toHaveLength(1);
  });

  it('a listener that throws does not break the stream', async () => {
    h = await startHarness();
    h.server.on('connect', () => {
      throw new Error('registration failed');
    });
    const c = h.connect('reviews-v1-0');
    c.subscribe('listener');
    expect((await c.next()).type_url).toBe(TYPE_URL.listener);
    expect(h.logs.some((l) => l.includes('registration failed'))).toBe(true);
  });

  it('close() ends open streams with OK and returns promptly', async () => {
    h = await startHarness();
    const c = h.connect('reviews-v1-0');
    c.subscribe('listener');
    await c.next();
    const started = Date.now();
    await h.server.close();
    expect(Date.now() - started).toBeLessThan(1000);
    const status = await c.status;
    expect(status.code).toBe(0);
    await eventually(() => h.server.status().length === 0);
    expect(await metricValue(h.registry, 'pilot_xds')).toBe(0);
  });

  it('a push racing a subscription change sends the new content once, and tracks what was written', async () => {
    h = await startHarness();
    const c = h.connect('reviews-v1-0');
    c.subscribe('endpoint', ['outbound|9080||reviews.default.svc.cluster.local']);
    const r1 = await c.next();
    // The proxy widens its subscription while a config change is being pushed.
    const both = ['outbound|9080||reviews.default.svc.cluster.local', 'outbound|9080||ratings.default.svc.cluster.local'];
    h.mesh.generation = 2;
    c.ack(r1, both);
    h.server.push('config');
    const r2 = await c.next();
    expect(resourceNames(r2).sort()).toEqual([...both].sort());
    expect(decodeResources(r2)[0]).toMatchObject({
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { port_value: 9002 } } } }] }],
    });
    // The debounced push finds the proxy already has this version: no duplicate.
    await c.expectNothing(200);
    const s = h.server.status()[0]!.types.endpoint;
    expect(s).toMatchObject({ sentNonce: r2.nonce, sentVersion: r2.version_info, ackedNonce: r1.nonce });
    c.ack(r2, both);
    await eventually(() => h.server.status()[0]!.types.endpoint.state === 'SYNCED');
  });
});
