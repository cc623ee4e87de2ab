// OTLP/JSON trace export: an ExportTraceServiceRequest in the protobuf JSON mapping that OTLP/HTTP specifies
// (ids as lowercase hex, 64-bit nanosecond times as decimal strings, enums as numbers).

/** A span attribute's value, as the sidecar sets them. */
export type SpanAttributeValue = string | number | boolean;
export type SpanAttributes = Record<string, SpanAttributeValue>;

/** An ended span, as the exporter needs it. */
export interface FinishedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly server: boolean;
  /** Epoch milliseconds, fractional. */
  readonly startMs: number;
  readonly endMs: number;
  readonly error: boolean;
  readonly attributes: SpanAttributes;
}

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;
const STATUS_CODE_ERROR = 2;

interface KeyValue {
  key: string;
  value: { stringValue: string } | { boolValue: boolean } | { intValue: string } | { doubleValue: number };
}

/** The request body for `spans`, all from one resource (this sidecar) and one instrumentation scope. */
export function encodeTraces(resource: SpanAttributes, scope: string, spans: readonly FinishedSpan[]): string {
  return JSON.stringify({
    resourceSpans: [{ resource: { attributes: keyValues(resource) }, scopeSpans: [{ scope: { name: scope }, spans: spans.map(encodeSpan) }] }],
  });
}

function encodeSpan(s: FinishedSpan) {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    ...(s.parentSpanId !== '' ? { parentSpanId: s.parentSpanId } : {}),
    name: s.name,
    kind: s.server ? SPAN_KIND_SERVER : SPAN_KIND_CLIENT,
    startTimeUnixNano: unixNanos(s.startMs),
    endTimeUnixNano: unixNanos(s.endMs),
    attributes: keyValues(s.attributes),
    status: s.error ? { code: STATUS_CODE_ERROR } : {},
  };
}

/** Epoch ms to a nanosecond decimal string at microsecond precision (ms × 10⁶ is past 2⁵³; ms × 10³ is not). */
function unixNanos(ms: number): string {
  return `${Math.round(ms * 1000)}000`;
}

function keyValues(attributes: SpanAttributes): KeyValue[] {
  const out: KeyValue[] = [];
  for (const key in attributes) out.push({ key, value: anyValue(attributes[key]!) });
  return out;
}

function anyValue(v: SpanAttributeValue): KeyValue['value'] {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
}
