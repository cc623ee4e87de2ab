import type { AttributeValue, StoredSpan } from './trace-store.js';

// OTLP/JSON trace export (ExportTraceServiceRequest in the protobuf JSON mapping, as OTLP/HTTP specifies:
// ids as hex, 64-bit times as decimal strings or numbers, enums as numbers or names).

export class OtlpRequestError extends Error {}

export interface DecodedSpans {
  spans: StoredSpan[];
  /** Spans refused one by one (bad ids or times), for OTLP's partial success. */
  rejected: number;
  firstError: string;
}

const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS = ['UNSET', 'OK', 'ERROR'];
const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

type Json = Record<string, unknown>;

/** Decodes an ExportTraceServiceRequest; throws OtlpRequestError when it isn't one at all. */
export function decodeOtlpTraces(body: unknown): DecodedSpans {
  if (!isObj(body)) throw new OtlpRequestError('the body must be a JSON object (ExportTraceServiceRequest)');
  const rs = body.resourceSpans ?? [];
  if (!Array.isArray(rs)) throw new OtlpRequestError('resourceSpans must be a list');
  const out: DecodedSpans = { spans: [], rejected: 0, firstError: '' };
  for (const r of rs) {
    if (!isObj(r)) throw new OtlpRequestError('each resourceSpans entry must be an object');
    const resource = attributes(isObj(r.resource) ? r.resource.attributes : undefined);
    const service = typeof resource['service.name'] === 'string' ? resource['service.name'] : '';
    const scopes = r.scopeSpans ?? [];
    if (!Array.isArray(scopes)) throw new OtlpRequestError('scopeSpans must be a list');
    for (const s of scopes) {
      const spans = isObj(s) ? (s.spans ?? []) : undefined;
      if (!Array.isArray(spans)) throw new OtlpRequestError('scopeSpans[].spans must be a list');
      for (const span of spans) {
        try {
          out.spans.push(decodeSpan(span, service));
        } catch (err) {
          out.rejected++;
          out.firstError ||= (err as Error).message;
        }
      }
    }
  }
  return out;
}

function decodeSpan(v: unknown, service: string): StoredSpan {
  if (!isObj(v)) throw new Error('a span must be an object');
  const traceId = String(v.traceId ?? '').toLowerCase();
  const spanId = String(v.spanId ?? '').toLowerCase();
  const parentSpanId = String(v.parentSpanId ?? '').toLowerCase();
  if (!HEX32.test(traceId) || !HEX16.test(spanId)) throw new Error(`span ids must be hex (traceId 32, spanId 16 digits): ${traceId}/${spanId}`);
  if (parentSpanId !== '' && !HEX16.test(parentSpanId)) throw new Error(`parentSpanId must be 16 hex digits: ${parentSpanId}`);
  const start = micros(v.startTimeUnixNano);
  const end = micros(v.endTimeUnixNano);
  const status = isObj(v.status) ? enumName(v.status.code, STATUS) : 'UNSET';
  return {
    traceId,
    spanId,
    parentSpanId,
    name: typeof v.name === 'string' ? v.name : '',
    kind: enumName(v.kind, KINDS, 'SPAN_KIND_'),
    service,
    startTimeUnixMicros: start,
    endTimeUnixMicros: end,
    durationMicros: Math.max(0, end - start),
    status,
    attributes: attributes(v.attributes),
  };
}

/** A fixed64 in nanoseconds (decimal string or number) as epoch microseconds. */
function micros(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.floor(v / 1000);
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(BigInt(v) / 1000n);
  throw new Error(`a span time must be nanoseconds since the epoch: ${JSON.stringify(v)}`);
}

function enumName(v: unknown, names: readonly string[], prefix = 'STATUS_CODE_'): string {
  if (typeof v === 'number') return names[v] ?? 'UNSPECIFIED';
  if (typeof v === 'string') return v.startsWith(prefix) ? v.slice(prefix.length) : v;
  return names[0]!;
}

function attributes(v: unknown): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  if (!Array.isArray(v)) return out;
  for (const kv of v) if (isObj(kv) && typeof kv.key === 'string') out[kv.key] = anyValue(kv.value);
  return out;
}

function anyValue(v: unknown): AttributeValue {
  if (!isObj(v)) return null;
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (typeof v.boolValue === 'boolean') return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (isObj(v.arrayValue) && Array.isArray(v.arrayValue.values)) return v.arrayValue.values.map(anyValue);
  if (typeof v.bytesValue === 'string') return v.bytesValue;
  return null;
}

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
