import { afterEach, describe, expect, test } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeOtlpTraces } from '@trellis/control';
import { SpanSink } from '../../src/tracing/span-sink.js';
import type { TracingOptions } from '../../src/tracing/tracer.js';

// The span sink against a real HTTP collector on 127.0.189.1: what it sends (OTLP/JSON as the control plane's
// collector decodes it), when (batches), and what a slow or failing collector costs (a batch, never more).

const HOST = '127.0.189.1';

interface Post {
  spans: number;
  body: unknown;
}

/** A collector that records every POST's body and answers it with `answer` (which may hold or drop it). */
async function collector(answer: (n: number, req: IncomingMessage, res: ServerResponse) => void = (_n, _req, res) => res.end('{}')) {
  const posts: Post[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d));
    req.on('end', () => {
      const body = JSON.parse(text) as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] };
      posts.push({ spans: body.resourceSpans[0]!.scopeSpans[0]!.spans.length, body });
      answer(posts.length, req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  servers.push(server);
  return { posts, url: `http://${HOST}:${(server.address() as AddressInfo).port}/v1/traces` };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const options = (collectorUrl: string, more: Partial<TracingOptions> = {}): TracingOptions => ({
  samplingPercent: 100,
  collectorUrl,
  serviceName: 'reviews.bookinfo',
  spanAttributes: { 'istio.namespace': 'bookinfo' },
  ...more,
});

async function until<T>(what: string, f: () => T | undefined | false, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function endSpans(sink: SpanSink, n: number): void {
  for (let i = 0; i < n; i++) sink.start(`s${i}`, false, null, Date.now(), {}).end(Date.now(), false);
}

describe('SpanSink', () => {
  test('ended spans go out together after the flush interval, as OTLP/JSON the control plane decodes', async () => {
    const c = await collector();
    const sink = new SpanSink(options(c.url, { flushIntervalMs: 50 }));
    const t0 = 1_763_700_000_123.456;
    const client = sink.start('reviews:9080/*', false, { traceId: '463ac35c9f6413ad', spanId: '00f067aa0ba902b7' }, t0, { 'http.request.method': 'GET', 'server.port': 9080 });
    client.setAttributes({ 'http.response.status_code': 503, ratio: 0.25, retried: true });
    client.updateName('ratings:9080/*');
    client.end(t0 + 1.5, true);
    client.end(t0 + 9, false); // a second end changes nothing
    const server = sink.start('inbound', true, null, t0, {});
    server.end(t0 + 2, false);
    await until('one POST', () => c.posts.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(c.posts.map((p) => p.spans)).toEqual([2]);

    const { spans, rejected } = decodeOtlpTraces(c.posts[0]!.body);
    expect(rejected).toBe(0);
    expect(spans[0]).toMatchObject({
      traceId: '0000000000000000463ac35c9f6413ad',
      spanId: client.spanId,
      parentSpanId: '00f067aa0ba902b7',
      name: 'ratings:9080/*',
      kind: 'CLIENT',
      service: 'reviews.bookinfo',
      startTimeUnixMicros: 1_763_700_000_123_456,
      endTimeUnixMicros: 1_763_700_000_124_956,
      status: 'ERROR',
      attributes: { 'http.request.method': 'GET', 'server.port': 9080, 'http.response.status_code': 503, ratio: 0.25, retried: true },
    });
    expect(spans[1]).toMatchObject({ traceId: server.traceId, parentSpanId: '', kind: 'SERVER', status: 'UNSET', durationMicros: 2000 });
    expect(server.traceId).toMatch(/^[0-9a-f]{32}$/);
    const resource = (c.posts[0]!.body as { resourceSpans: { resource: { attributes: { key: string }[] } }[] }).resourceSpans[0]!.resource;
    expect(resource.attributes.map((a) => a.key)).toEqual(['service.name', 'istio.namespace']);
    await sink.shutdown();
  });

  test('a full batch (512) goes at once, not after the interval; shutdown sends the rest', async () => {
    const c = await collector();
    const sink = new SpanSink(options(c.url, { flushIntervalMs: 60_000 }));
    endSpans(sink, 600);
    await until('the first batch', () => c.posts.length === 1);
    expect(c.posts[0]!.spans).toBe(512);
    await sink.shutdown();
    expect(c.posts.map((p) => p.spans)).toEqual([512, 88]);
    endSpans(sink, 3); // after shutdown: dropped, nothing sent
    await new Promise((r) => setTimeout(r, 50));
    expect(c.posts).toHaveLength(2);
  });

  test('while a collector holds an export, at most 2048 spans wait and the rest are counted as dropped', async () => {
    const held: ServerResponse[] = [];
    const c = await collector((_n, _req, res) => held.push(res));
    const sink = new SpanSink(options(c.url, { flushIntervalMs: 60_000, exportTimeoutMs: 200 }));
    endSpans(sink, 512); // sent, and held
    await until('the held export', () => c.posts.length === 1);
    endSpans(sink, 2048 + 7);
    expect(sink.dropped).toBe(7);
    // Each held export is given up after 200 ms; shutdown sends the 2048 waiting spans as 4 more batches.
    const started = Date.now();
    await sink.shutdown();
    expect(c.posts.map((p) => p.spans)).toEqual([512, 512, 512, 512, 512]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4 * 190);
  });

  test('shutdown(boundMs) gives up on a collector that holds its answer: the export is cut off, the rest dropped', async () => {
    const held: ServerResponse[] = [];
    const c = await collector((_n, _req, res) => held.push(res));
    const sink = new SpanSink(options(c.url, { flushIntervalMs: 60_000 })); // exports would wait 5 s each
    endSpans(sink, 512 + 100);
    await until('the held export', () => c.posts.length === 1);
    const started = Date.now();
    await sink.shutdown(150);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(c.posts).toHaveLength(1);
    await until('the held request cut off', () => held[0]!.destroyed || held[0]!.socket === null);
  });

  test('a failed export costs its batch only: the next one is sent as usual', async () => {
    const c = await collector((n, req, res) => (n === 1 ? req.socket.destroy() : res.end('{}')));
    const sink = new SpanSink(options(c.url, { flushIntervalMs: 20 }));
    endSpans(sink, 2);
    await until('the first POST', () => c.posts.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    endSpans(sink, 3);
    await until('the second POST', () => c.posts.length === 2);
    expect(c.posts.map((p) => p.spans)).toEqual([2, 3]);
    await sink.shutdown();
  });
});
