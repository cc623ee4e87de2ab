import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { request } from 'node:http';
import type { EnvoyJson } from '@trellis/envoy-api';
import { startCollectorServer, TraceStore, type CollectorServer, type StoredSpan } from '@trellis/control';
import { compileConfig } from '../../src/config/compile.js';
import { ConfigRejected } from '../../src/config/raw-snapshot.js';
import { Sidecar } from '../../src/sidecar.js';
import { Tracer } from '../../src/tracing/tracer.js';
import { echoServer, type TestServer } from '../dataplane/helpers/servers.js';
import { listener, routeConfig, snapshot, staticCluster, toCluster, vhost } from '../dataplane/helpers/resources.js';

// The tracing filter in an in-process sidecar: spans go to a real collector over OTLP/HTTP.
// Addresses 127.0.187.x are this file's own.

const IP = '127.0.187.1';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

function withDirection(l: EnvoyJson, direction: string): EnvoyJson {
  return { ...l, traffic_direction: direction };
}

describe('the tracing filter in a sidecar', () => {
  let upstream: TestServer;
  let store: TraceStore;
  let collector: CollectorServer;
  const sidecars: Sidecar[] = [];

  /** A sidecar at `samplingPercent` with an outbound and an inbound listener; `hcmTracing` goes into both HCMs. */
  async function start(samplingPercent: number, hcmTracing?: EnvoyJson): Promise<{ outbound: number; inbound: number }> {
    const sidecar = new Sidecar({
      podIp: IP,
      ports: { outbound: 0, inbound: 0, admin: 0, health: 0 },
      tracing: {
        samplingPercent,
        collectorUrl: `http://127.0.0.1:${collector.port}/v1/traces`,
        serviceName: 'reviews.bookinfo',
        spanAttributes: { node_id: 'sidecar~127.0.187.1~reviews-1.bookinfo~bookinfo.svc.cluster.local', 'istio.canonical_service': 'reviews', 'istio.namespace': 'bookinfo' },
        flushIntervalMs: 20,
      },
    });
    sidecars.push(sidecar);
    await sidecar.start();
    const extra = hcmTracing ? { tracing: hcmTracing } : {};
    sidecar.apply(
      snapshot({
        listeners: [withDirection(listener('virtualOutbound', 0, 'rc', extra), 'OUTBOUND'), withDirection(listener('virtualInbound', 0, 'rc', extra), 'INBOUND')],
        routes: [routeConfig('rc', [vhost('all', ['*'], [toCluster({ prefix: '/' }, 'outbound|9080||ratings.bookinfo.svc.cluster.local')])])],
        clusters: [staticCluster('outbound|9080||ratings.bookinfo.svc.cluster.local', [{ port: upstream.port }])],
      }),
    );
    await sidecar.settled();
    return { outbound: sidecar.listenerAddress('virtualOutbound')!.port, inbound: sidecar.listenerAddress('virtualInbound')!.port };
  }

  const get = (port: number, headers: Record<string, string> = {}, path = '/ratings/1?x=1'): Promise<Record<string, string>> =>
    new Promise((resolve, reject) => {
      const req = request({ host: IP, port, path, headers: { host: 'ratings.bookinfo:9080', 'user-agent': 'trace-test/1', ...headers }, agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve((JSON.parse(body) as { headers: Record<string, string> }).headers));
      });
      req.on('error', reject);
      req.end();
    });

  const spansOf = async (traceId: string, n: number): Promise<StoredSpan[]> => {
    const until = Date.now() + 3000;
    for (;;) {
      const spans = store.trace(traceId) ?? [];
      if (spans.length >= n || Date.now() > until) return spans;
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  beforeAll(async () => {
    upstream = await echoServer('ratings');
    store = new TraceStore();
    collector = await startCollectorServer({ host: '127.0.0.1', port: 0, store });
  });

  afterAll(async () => {
    for (const s of sidecars) await s.close(500);
    await upstream?.close();
    await collector?.close();
  });

  test('a sampled request: CLIENT span on OUTBOUND, SERVER span on INBOUND, with the HTTP and mesh attributes', async () => {
    const { outbound, inbound } = await start(100);
    const seen = await get(outbound, { traceparent: `00-${TRACE}-00f067aa0ba902b7-01`, 'x-request-id': 'rid-1' });
    const [, , ourSpan] = seen.traceparent!.split('-');
    const [client] = await spansOf(TRACE, 1);
    expect(client).toMatchObject({ spanId: ourSpan, parentSpanId: '00f067aa0ba902b7', kind: 'CLIENT', service: 'reviews.bookinfo', name: 'ratings.bookinfo.svc.cluster.local:9080/*', status: 'UNSET' });
    expect(client!.attributes).toEqual({
      'http.request.method': 'GET',
      'url.path': '/ratings/1',
      'server.address': 'ratings.bookinfo',
      'server.port': 9080,
      'network.protocol.version': '1.1',
      'user_agent.original': 'trace-test/1',
      'guid:x-request-id': 'rid-1',
      component: 'proxy',
      node_id: 'sidecar~127.0.187.1~reviews-1.bookinfo~bookinfo.svc.cluster.local',
      'istio.canonical_service': 'reviews',
      'istio.namespace': 'bookinfo',
      'http.response.status_code': 200,
      upstream_cluster: 'outbound|9080||ratings.bookinfo.svc.cluster.local',
      response_flags: '-',
    });
    await get(inbound, { traceparent: `00-${TRACE}-1111111111111111-01` });
    const server = (await spansOf(TRACE, 2)).find((s) => s.parentSpanId === '1111111111111111');
    expect(server?.kind).toBe('SERVER');
  });

  test("the HCM's tracing.random_sampling wins over the flag; a sampled parent is still followed", async () => {
    const { outbound } = await start(100, { random_sampling: { value: 0 } });
    const seen = await Promise.all(Array.from({ length: 20 }, () => get(outbound)));
    const ids = seen.map((h) => h.traceparent!.split('-')[1]!);
    for (const h of seen) expect(h.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(new Set(ids).size).toBe(20);
    const parent = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    await get(outbound, { traceparent: `00-${parent}-00f067aa0ba902b7-01` });
    expect(await spansOf(parent, 1)).toHaveLength(1);
    for (const id of ids) expect(store.trace(id)).toBeUndefined();
  });

  test('custom tags from the HCM (literal, request header); its random_sampling 100 over a 0% flag', async () => {
    const { outbound } = await start(0, {
      random_sampling: { value: 100 },
      custom_tags: [
        { tag: 'istio.mesh_id', literal: { value: 'cluster.local' } },
        { tag: 'tenant', request_header: { name: 'X-Tenant', default_value: 'none' } },
      ],
    });
    const seen = await get(outbound, { 'x-tenant': 'blue' });
    const traceId = seen.traceparent!.split('-')[1]!;
    const [span] = await spansOf(traceId, 1);
    expect(span!.attributes).toMatchObject({ 'istio.mesh_id': 'cluster.local', tenant: 'blue' });
    expect(span!.parentSpanId).toBe('');
  });

  test('tracing config the sidecar cannot honour is refused (NACK), not ignored', () => {
    const tracer = new Tracer({ samplingPercent: 1, collectorUrl: 'http://127.0.0.1:1/v1/traces', serviceName: 'x.y', spanAttributes: {} });
    const compile = (tracing: EnvoyJson) =>
      compileConfig(snapshot({ listeners: [listener('virtualOutbound', 0, 'rc', { tracing })] }), { tracer });
    expect(() => compile({ random_sampling: { value: 150 } })).toThrow(ConfigRejected);
    expect(() => compile({ overall_sampling: { value: 50 } })).toThrow(/only 100 is supported/);
    expect(() => compile({ verbose: true })).toThrow(/verbose/);
    expect(() => compile({ custom_tags: [{ tag: 'm', metadata: { kind: { request: {} }, metadata_key: { key: 'k', path: [{ key: 'a' }] } } }] })).toThrow(/custom tags/);
    const ok = compile({ random_sampling: { value: 10 }, client_sampling: { value: 100 } });
    const hcm = ok.listeners.get('virtualOutbound')!.hcm;
    expect(hcm.tracing?.randomSampling).toBe(10);
    expect(hcm.filterChain[0]!.name).toBe('trellis.filters.http.tracing');
    // Without a tracer (tracing off), the chain is exactly what xDS sent.
    const off = compileConfig(snapshot({ listeners: [listener('virtualOutbound', 0, 'rc')] }));
    expect(off.listeners.get('virtualOutbound')!.hcm.filterChain.map((f) => f.name)).not.toContain('trellis.filters.http.tracing');
  });
});
