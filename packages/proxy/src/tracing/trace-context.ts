import { randomFillSync } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Which propagation formats a request carried (bits), so the next hop gets the same ones. */
export const TraceFormat = {
  W3C: 1 << 0,
  B3_MULTI: 1 << 1,
  B3_SINGLE: 1 << 2,
} as const;

/**
 * The trace context a request arrived with, taken from the first valid format (W3C, then B3 single, then
 * B3 multi). `sampled` null means the caller left the decision to us (B3 without a sampling state).
 */
export interface ParentContext {
  /** 32 or (B3 only) 16 lower-case hex digits; never all zeros. */
  readonly traceId: string;
  /** 16 lower-case hex digits: the caller's span, the parent of ours. */
  readonly spanId: string;
  readonly sampled: boolean | null;
  /** B3 debug (`x-b3-flags: 1`, `b3: ...-d`): always sampled, and said so again upstream. */
  readonly debug: boolean;
  /** W3C `tracestate`, forwarded as is with a valid traceparent; '' when none. */
  readonly tracestate: string;
}

/** What the request's trace headers say: the parent (null when none is valid) and the formats present. */
export interface ExtractedContext {
  readonly parent: ParentContext | null;
  /** A B3 sampling state sent without ids (`b3: 0`, `x-b3-sampled: 1` alone): a decision for a new trace. */
  readonly decision: boolean | null;
  /** The formats the request used, valid or not: malformed ones are overwritten in the same format. */
  readonly formats: number;
}

const HEX16 = /^[0-9a-f]{16}$/;
const HEX32 = /^[0-9a-f]{32}$/;
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO16 = '0000000000000000';
const ZERO32 = '00000000000000000000000000000000';

/** Reads W3C Trace Context and B3 (multi and single header) from request headers. Never throws. */
export function extractContext(h: IncomingHttpHeaders): ExtractedContext {
  let formats = 0;
  let parent: ParentContext | null = null;
  const tp = h.traceparent;
  if (tp !== undefined) {
    formats |= TraceFormat.W3C;
    parent = parseTraceparent(tp, h.tracestate);
  }
  const single = h.b3;
  if (single !== undefined) {
    formats |= TraceFormat.B3_SINGLE;
    if (parent === null) parent = parseB3Single(single);
  }
  if (h['x-b3-traceid'] !== undefined || h['x-b3-spanid'] !== undefined || h['x-b3-sampled'] !== undefined || h['x-b3-flags'] !== undefined) {
    formats |= TraceFormat.B3_MULTI;
    if (parent === null) parent = parseB3Multi(h);
  }
  const decision = parent === null && formats & (TraceFormat.B3_SINGLE | TraceFormat.B3_MULTI) ? b3DecisionOnly(h) : null;
  return { parent, formats, decision };
}

/** B3 lets a caller send only its sampling decision (`b3: 0|1|d`, or `x-b3-sampled`/`x-b3-flags` alone). */
function b3DecisionOnly(h: IncomingHttpHeaders): boolean | null {
  const single = h.b3;
  if (single === '0') return false;
  if (single === '1' || single === 'd') return true;
  if (h['x-b3-traceid'] !== undefined || h['x-b3-spanid'] !== undefined) return null;
  if (h['x-b3-flags'] === '1') return true;
  const s = h['x-b3-sampled'];
  return s === '1' || s === 'true' ? true : s === '0' || s === 'false' ? false : null;
}

/** W3C traceparent (version 00, or a later version read as 00 as the spec asks); null when malformed. */
export function parseTraceparent(v: string | string[], tracestate: string | string[] | undefined): ParentContext | null {
  if (typeof v !== 'string') return null;
  const m = TRACEPARENT.exec(v.trim());
  if (m === null) return null;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (traceId === ZERO32 || spanId === ZERO16) return null;
  const state = tracestate === undefined ? '' : typeof tracestate === 'string' ? tracestate : tracestate.join(',');
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1, debug: false, tracestate: state };
}

/** B3 single header `{traceid}-{spanid}[-{sampling}[-{parentspanid}]]`; a bare sampling state has no context. */
export function parseB3Single(v: string | string[]): ParentContext | null {
  if (typeof v !== 'string') return null;
  const parts = v.trim().split('-');
  if (parts.length < 2 || parts.length > 4) return null;
  const [traceId, spanId, sampling, parentId] = parts as [string, string, string | undefined, string | undefined];
  if (!validTraceId(traceId) || !validSpanId(spanId)) return null;
  if (parentId !== undefined && !validSpanId(parentId)) return null;
  let sampled: boolean | null = null;
  let debug = false;
  if (sampling !== undefined) {
    if (sampling === '1') sampled = true;
    else if (sampling === '0') sampled = false;
    else if (sampling === 'd') sampled = debug = true;
    else return null;
  }
  return { traceId, spanId, sampled, debug, tracestate: '' };
}

/** B3 multi-header; the trace and span ids are both required for a context. */
export function parseB3Multi(h: IncomingHttpHeaders): ParentContext | null {
  const traceId = h['x-b3-traceid'];
  const spanId = h['x-b3-spanid'];
  if (typeof traceId !== 'string' || typeof spanId !== 'string') return null;
  const t = traceId.trim().toLowerCase();
  const s = spanId.trim().toLowerCase();
  if (!validTraceId(t) || !validSpanId(s)) return null;
  const parentId = h['x-b3-parentspanid'];
  if (parentId !== undefined && (typeof parentId !== 'string' || !validSpanId(parentId.trim().toLowerCase()))) return null;
  const debug = h['x-b3-flags'] === '1';
  const s0 = h['x-b3-sampled'];
  let sampled: boolean | null = debug ? true : null;
  if (!debug && s0 !== undefined) {
    // `true`/`false` are what some old B3 clients send.
    if (s0 === '1' || s0 === 'true') sampled = true;
    else if (s0 === '0' || s0 === 'false') sampled = false;
    else return null;
  }
  return { traceId: t, spanId: s, sampled, debug, tracestate: '' };
}

function validTraceId(id: string): boolean {
  return (HEX32.test(id) && id !== ZERO32) || (HEX16.test(id) && id !== ZERO16);
}

function validSpanId(id: string): boolean {
  return HEX16.test(id) && id !== ZERO16;
}

/** What goes upstream: our span in the trace, with the decision made here. */
export interface OutgoingContext {
  readonly traceId: string;
  readonly spanId: string;
  /** The caller's span (B3's parent span id); null for a new trace. */
  readonly parentSpanId: string | null;
  readonly sampled: boolean;
  readonly debug: boolean;
  readonly tracestate: string;
}

const B3_MULTI_HEADERS = ['x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags'] as const;

/**
 * Writes `ctx` into the request headers in each of `formats` (W3C when none), replacing what was there,
 * so a malformed header is never passed on.
 */
export function injectContext(h: IncomingHttpHeaders, ctx: OutgoingContext, formats: number): void {
  if (formats === 0) formats = TraceFormat.W3C;
  if (formats & TraceFormat.W3C) {
    h.traceparent = `00-${ctx.traceId.length === 16 ? ZERO16 + ctx.traceId : ctx.traceId}-${ctx.spanId}-${ctx.sampled ? '01' : '00'}`;
    if (ctx.tracestate !== '') h.tracestate = ctx.tracestate;
    else delete h.tracestate;
  }
  if (formats & TraceFormat.B3_SINGLE) {
    const sampling = ctx.debug ? 'd' : ctx.sampled ? '1' : '0';
    h.b3 = `${ctx.traceId}-${ctx.spanId}-${sampling}${ctx.parentSpanId !== null ? `-${ctx.parentSpanId}` : ''}`;
  }
  if (formats & TraceFormat.B3_MULTI) {
    for (const name of B3_MULTI_HEADERS) delete h[name];
    h['x-b3-traceid'] = ctx.traceId;
    h['x-b3-spanid'] = ctx.spanId;
    if (ctx.parentSpanId !== null) h['x-b3-parentspanid'] = ctx.parentSpanId;
    // B3: debug implies sampled, and the sampled header is then left out.
    if (ctx.debug) h['x-b3-flags'] = '1';
    else h['x-b3-sampled'] = ctx.sampled ? '1' : '0';
  }
}

/** Hex ids from a pooled random buffer: one crypto call per 512 ids, not one per request. */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = POOL_BYTES;

function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    if (pool.length === 0) pool = Buffer.allocUnsafe(POOL_BYTES);
    randomFillSync(pool);
    offset = 0;
  }
  const s = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return s;
}

/** A random, non-zero 64-bit span id as 16 hex digits. */
export function newSpanId(): string {
  const id = randomHex(8);
  return id === ZERO16 ? newSpanId() : id;
}

/** A random, non-zero 128-bit trace id as 32 hex digits. */
export function newTraceId(): string {
  const id = randomHex(16);
  return id === ZERO32 ? newTraceId() : id;
}
