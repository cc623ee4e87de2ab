import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { gzipSync } from 'node:zlib';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import { startCollectorServer, type CollectorServer } from '../../src/telemetry/collector-server.js';
import { TraceStore, type StoredSpan } from '../../src/telemetry/trace-store.js';

// The control plane's collector: OTLP/HTTP JSON in (port of its own), the API's /api/v1/traces out.
// Addresses 127.0.188.x are this file's own.

const HOST = '127.0.188.1';
const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');

/** An OTLP/JSON export of `spans` for one service, as the OpenTelemetry JS exporter writes it. */
function otlp(service: string, spans: { traceId: string; spanId: string; parentSpanId?: string; kind?: number; startMs?: number }[]): unknown {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            scope: { name: 'trellis-proxy' },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId,
              name: 'hello:8080/*',
              kind: s.kind ?? 2,
              startTimeUnixNano: String(BigInt(s.startMs ?? 1_700_000_000_000) * 1_000_000n),
              endTimeUnixNano: String(BigInt((s.startMs ?? 1_700_000_000_000) + 5) * 1_000_000n + 1234n),
              attributes: [
                { key: 'http.response.status_code', value: { intValue: 200 } },
                { key: 'component', value: { stringValue: 'proxy' } },
                { key: 'error', value: { boolValue: false } },
              ],
              status: { code: 0 },
            })),
          },
        ],
      },
    ],
  };
}

describe('the trace collector', () => {
  let store: TraceStore;
  let collector: CollectorServer;
  let api: ApiServer;
  const post = (body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }, path = '/v1/traces') =>
    fetch(`http://${HOST}:${collector.port}${path}`, { method: 'POST', body, headers });
  const get = async (path: string) => {
    const res = await fetch(`http://${HOST}:${api.port}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    store = new TraceStore();
    collector = await startCollectorServer({ host: HOST, port: 0, store });
    api = await startApiServer({ host: HOST, port: 0, cluster: undefined, plane: { source: { current: () => ({ pods: [], objects: [], issues: [] }) } } as never, traces: store });
  });
  afterAll(async () => {
    await collector?.close();
    await api?.close();
  });

  test('POST /v1/traces (JSON) stores spans; the API returns them with parents, service, attributes and times', async () => {
    const traceId = hex(1, 32);
    const res = await post(JSON.stringify(otlp('productpage.default', [
      { traceId, spanId: hex(1, 16), kind: 3, startMs: 1_700_000_000_000 },
      { traceId, spanId: hex(2, 16), parentSpanId: hex(1, 16), kind: 2, startMs: 1_700_000_000_001 },
    ])));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    const { status, body } = await get(`/api/v1/traces/${traceId}`);
    expect(status).toBe(200);
    const spans = body.spans as StoredSpan[];
    expect(spans.map((s) => [s.spanId, s.parentSpanId, s.kind, s.service])).toEqual([
      [hex(1, 16), '', 'CLIENT', 'productpage.default'],
      [hex(2, 16), hex(1, 16), 'SERVER', 'productpage.default'],
    ]);
    expect(spans[0]).toMatchObject({ startTimeUnixMicros: 1_700_000_000_000_000, endTimeUnixMicros: 1_700_000_000_005_001, durationMicros: 5001, status: 'UNSET' });
    expect(spans[0]!.attributes).toEqual({ 'http.response.status_code': 200, component: 'proxy', error: false });
  });

  test('gzip bodies are read; protobuf is answered 415 with what to send; other mistakes 400/404/405', async () => {
    const traceId = hex(2, 32);
    expect((await post(gzipSync(JSON.stringify(otlp('a.default', [{ traceId, spanId: hex(9, 16) }]))), { 'content-type': 'application/json', 'content-encoding': 'gzip' })).status).toBe(200);
    expect(store.trace(traceId)).toHaveLength(1);
    const proto = await post(Buffer.from([0x0a, 0x00]), { 'content-type': 'application/x-protobuf' });
    expect(proto.status).toBe(415);
    expect(((await proto.json()) as { message: string }).message).toMatch(/protobuf is not supported.*application\/json/);
    expect((await post('{nope')).status).toBe(400);
    expect((await post(JSON.stringify({ resourceSpans: 'x' }))).status).toBe(400);
    expect((await post('{}', { 'content-type': 'application/json' }, '/v1/metrics')).status).toBe(404);
    expect((await fetch(`http://${HOST}:${collector.port}/v1/traces`)).status).toBe(405);
  });

  test('spans with bad ids are refused one by one (OTLP partial success)', async () => {
    const res = await post(JSON.stringify(otlp('b.default', [{ traceId: hex(3, 32), spanId: hex(1, 16) }, { traceId: 'xyz', spanId: hex(2, 16) }])));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ partialSuccess: { rejectedSpans: '1' } });
    expect(store.trace(hex(3, 32))).toHaveLength(1);
  });

  test('GET /api/v1/traces lists recent traces newest first, by service, up to limit', async () => {
    for (let i = 10; i < 15; i++) await post(JSON.stringify(otlp(i % 2 === 0 ? 'even.default' : 'odd.default', [{ traceId: hex(i, 32), spanId: hex(i, 16) }])));
    const even = (await get('/api/v1/traces?service=even.default&limit=2')).body.traces as { traceId: string; services: string[]; spanCount: number }[];
    expect(even.map((t) => t.traceId)).toEqual([hex(14, 32), hex(12, 32)]);
    expect(even[0]).toMatchObject({ services: ['even.default'], spanCount: 1, rootName: 'hello:8080/*' });
    expect(((await get('/api/v1/traces?limit=1')).body.traces as { traceId: string }[])[0]!.traceId).toBe(hex(14, 32));
    expect((await get('/api/v1/traces?limit=0')).status).toBe(400);
    expect((await get(`/api/v1/traces/${hex(99, 32)}`)).status).toBe(404);
    expect((await get('/api/v1/traces/not-an-id')).status).toBe(400);
  });
});

describe('the trace store is bounded', () => {
  const span = (t: number, s: number): StoredSpan => ({
    traceId: hex(t, 32), spanId: hex(s, 16), parentSpanId: '', name: 'n', kind: 'SERVER', service: 'svc.ns',
    startTimeUnixMicros: s, endTimeUnixMicros: s + 1, durationMicros: 1, status: 'UNSET', attributes: {},
  });

  test('past maxTraces the trace written to longest ago goes, whole', () => {
    const store = new TraceStore({ maxTraces: 3, maxSpans: 100 });
    store.add([span(1, 1), span(2, 2), span(3, 3)]);
    store.add([span(1, 4)]); // trace 1 is fresh again
    store.add([span(4, 5)]);
    expect(store.trace(hex(2, 32))).toBeUndefined();
    expect(store.trace(hex(1, 32))).toHaveLength(2);
    expect(store.size).toEqual({ traces: 3, spans: 4 });
  });

  test('past maxSpans, oldest traces go until the spans fit', () => {
    const store = new TraceStore({ maxTraces: 100, maxSpans: 5 });
    store.add([span(1, 1), span(1, 2), span(1, 3)]);
    store.add([span(2, 4), span(2, 5)]);
    store.add([span(3, 6)]);
    expect(store.trace(hex(1, 32))).toBeUndefined();
    expect(store.size).toEqual({ traces: 2, spans: 3 });
  });
});
