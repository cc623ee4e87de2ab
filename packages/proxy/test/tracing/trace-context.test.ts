import { describe, expect, test } from 'vitest';
import type { IncomingHttpHeaders } from 'node:http';
import { ROOT_CONTEXT, trace, type TextMapGetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { extractContext, injectContext, newRequestId, newSpanId, newTraceId, TraceFormat, type OutgoingContext } from '../../src/tracing/trace-context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

// OpenTelemetry's own propagators read what the sidecar writes: the formats are the standard ones.
const getter: TextMapGetter<IncomingHttpHeaders> = { keys: (h) => Object.keys(h), get: (h, k) => h[k] };
const otelRead = (h: IncomingHttpHeaders, p: W3CTraceContextPropagator | B3Propagator) => trace.getSpanContext(p.extract(ROOT_CONTEXT, h, getter));

describe('reading trace context', () => {
  test('W3C traceparent with tracestate; the sampled flag is bit 0', () => {
    const { parent, formats } = extractContext({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'congo=t61rcWkgMzE' });
    expect(formats).toBe(TraceFormat.W3C);
    expect(parent).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true, debug: false, tracestate: 'congo=t61rcWkgMzE' });
    expect(extractContext({ traceparent: `00-${TRACE}-${SPAN}-02` }).parent?.sampled).toBe(false);
  });

  test.each([
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['version 00 with extra fields', `00-${TRACE}-${SPAN}-01-extra`],
    ['short trace id', `00-${TRACE.slice(2)}-${SPAN}-01`],
    ['a later version followed by no dash', `01-${TRACE}-${SPAN}-01x`],
    ['non-hex flags', `00-${TRACE}-${SPAN}-0g`],
    ['a dash out of place', `00-${TRACE}${SPAN.slice(0, 1)}-${SPAN.slice(1)}-01`],
    ['garbage', 'hello'],
  ])('a malformed traceparent (%s) gives no parent, but counts as a W3C request', (_what, tp) => {
    expect(extractContext({ traceparent: tp })).toEqual({ parent: null, formats: TraceFormat.W3C, decision: null });
  });

  test('a later traceparent version is read as version 00, extra fields ignored', () => {
    expect(extractContext({ traceparent: `01-${TRACE}-${SPAN}-01-future` }).parent?.traceId).toBe(TRACE);
  });

  test('surrounding whitespace is ignored; the sampled bit is read from the last flags digit', () => {
    const parent = extractContext({ traceparent: ` \t00-${TRACE}-${SPAN}-03 ` }).parent;
    expect(parent).toMatchObject({ traceId: TRACE, spanId: SPAN, sampled: true });
    expect(extractContext({ traceparent: `00-${TRACE}-${SPAN}-10` }).parent?.sampled).toBe(false);
  });

  test('B3 multi-header, 128- and 64-bit trace ids, sampled / debug / deferred', () => {
    const base = { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN };
    expect(extractContext({ ...base, 'x-b3-sampled': '1' }).parent).toMatchObject({ traceId: TRACE, spanId: SPAN, sampled: true });
    expect(extractContext({ ...base, 'x-b3-sampled': '0' }).parent?.sampled).toBe(false);
    expect(extractContext({ ...base, 'x-b3-flags': '1' }).parent).toMatchObject({ sampled: true, debug: true });
    expect(extractContext(base).parent?.sampled).toBeNull();
    expect(extractContext({ 'x-b3-traceid': 'a3ce929d0e0e4736', 'x-b3-spanid': SPAN }).parent?.traceId).toBe('a3ce929d0e0e4736');
    expect(extractContext({ ...base, 'x-b3-sampled': 'yes' }).parent).toBeNull();
    expect(extractContext({ 'x-b3-traceid': TRACE }).parent).toBeNull();
    expect(extractContext({ ...base, 'x-b3-parentspanid': 'nothex!!nothex!!' }).parent).toBeNull();
  });

  test('B3 single header, and a bare sampling decision', () => {
    expect(extractContext({ b3: `${TRACE}-${SPAN}-1-05e3ac9a4f6e3b90` }).parent).toMatchObject({ traceId: TRACE, spanId: SPAN, sampled: true });
    expect(extractContext({ b3: `${TRACE}-${SPAN}-d` }).parent).toMatchObject({ sampled: true, debug: true });
    expect(extractContext({ b3: `${TRACE}-${SPAN}` }).parent?.sampled).toBeNull();
    expect(extractContext({ b3: `${TRACE}-${SPAN}-x` }).parent).toBeNull();
    expect(extractContext({ b3: '0' })).toEqual({ parent: null, formats: TraceFormat.B3_SINGLE, decision: false });
    expect(extractContext({ 'x-b3-sampled': '1' })).toEqual({ parent: null, formats: TraceFormat.B3_MULTI, decision: true });
  });

  test('several formats: W3C wins when valid, a valid B3 continues the trace when W3C is malformed', () => {
    const both = extractContext({ traceparent: `00-${TRACE}-${SPAN}-01`, b3: `80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1` });
    expect(both.parent?.traceId).toBe(TRACE);
    expect(both.formats).toBe(TraceFormat.W3C | TraceFormat.B3_SINGLE);
    expect(extractContext({ traceparent: 'bad', b3: `80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1` }).parent?.traceId).toBe('80f198ee56343ba864fe8b2a57d3eff7');
  });
});

describe('writing trace context', () => {
  const ctx: OutgoingContext = { traceId: TRACE, spanId: 'b7ad6b7169203331', parentSpanId: SPAN, sampled: true, debug: false, tracestate: 'rojo=1' };

  test('W3C when the request had no trace headers; OpenTelemetry reads it back', () => {
    const h: IncomingHttpHeaders = {};
    injectContext(h, ctx, 0);
    expect(h).toEqual({ traceparent: `00-${TRACE}-b7ad6b7169203331-01`, tracestate: 'rojo=1' });
    expect(otelRead(h, new W3CTraceContextPropagator())).toMatchObject({ traceId: TRACE, spanId: 'b7ad6b7169203331', traceFlags: 1 });
  });

  test('B3 multi replaces every x-b3 header; OpenTelemetry reads it back', () => {
    const h: IncomingHttpHeaders = { 'x-b3-traceid': 'junk', 'x-b3-flags': '0', 'x-b3-sampled': '1' };
    injectContext(h, { ...ctx, sampled: false }, TraceFormat.B3_MULTI);
    expect(h).toEqual({ 'x-b3-traceid': TRACE, 'x-b3-spanid': 'b7ad6b7169203331', 'x-b3-parentspanid': SPAN, 'x-b3-sampled': '0' });
    expect(otelRead(h, new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }))).toMatchObject({ traceId: TRACE, spanId: 'b7ad6b7169203331', traceFlags: 0 });
  });

  test('B3 single with its parent; debug as `d`; 64-bit ids stay 64-bit in B3 and widen in W3C', () => {
    const h: IncomingHttpHeaders = {};
    injectContext(h, { ...ctx, debug: true }, TraceFormat.B3_SINGLE);
    expect(h.b3).toBe(`${TRACE}-b7ad6b7169203331-d-${SPAN}`);
    expect(otelRead(h, new B3Propagator())).toMatchObject({ traceId: TRACE, spanId: 'b7ad6b7169203331', traceFlags: 1 });
    const short: IncomingHttpHeaders = {};
    injectContext(short, { ...ctx, traceId: 'a3ce929d0e0e4736', parentSpanId: null }, TraceFormat.B3_SINGLE | TraceFormat.W3C);
    expect(short.b3).toBe('a3ce929d0e0e4736-b7ad6b7169203331-1');
    expect(short.traceparent).toBe('00-0000000000000000a3ce929d0e0e4736-b7ad6b7169203331-01');
  });

  test('a stale tracestate is removed when there is none to forward', () => {
    const h: IncomingHttpHeaders = { traceparent: 'bad', tracestate: 'stale=1' };
    injectContext(h, { ...ctx, tracestate: '' }, TraceFormat.W3C);
    expect(h.tracestate).toBeUndefined();
  });

  test('ids: lower-case hex of the right length, not repeating', () => {
    const spans = new Set(Array.from({ length: 2000 }, newSpanId));
    expect(spans.size).toBe(2000);
    for (const id of spans) expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(newTraceId()).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('request ids', () => {
  test('are version 4 UUIDs (RFC 4122 variant), each new, their random digits uniform', () => {
    const ids = Array.from({ length: 4000 }, () => newRequestId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // 4000 ids x 30 free hex digits: each digit value is expected 7500 times; ±5% is over 4 standard deviations.
    const counts = new Map<string, number>();
    for (const id of ids) for (const [i, c] of [...id.replace(/-/g, '')].entries()) if (i !== 12 && i !== 16) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(16);
    for (const n of counts.values()) expect(Math.abs(n - 7500)).toBeLessThan(375);
  });
});
