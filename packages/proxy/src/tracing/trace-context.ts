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
  // Every hop's request carries one: read by position (`vv-<32 hex>-<16 hex>-ff[-...]`), no regex match or trim.
  if (v.length < TRACEPARENT_LENGTH || isSpace(v.charCodeAt(0)) || isSpace(v.charCodeAt(v.length - 1))) {
    const t = v.trim();
    if (t.length === v.length || t.length < TRACEPARENT_LENGTH) return null;
    v = t;
  }
  if (v.charCodeAt(2) !== DASH || v.charCodeAt(35) !== DASH || v.charCodeAt(52) !== DASH) return null;
  if (!lowerHexAt(v, 0, 2) || !lowerHexAt(v, 3, 35) || !lowerHexAt(v, 36, 52) || !lowerHexAt(v, 53, 55)) return null;
  const version = v.slice(0, 2);
  if (version === 'ff') return null;
  // Version 00 is exactly 55 characters; a later version may append fields after a dash.
  if (v.length > TRACEPARENT_LENGTH && (version === '00' || v.charCodeAt(TRACEPARENT_LENGTH) !== DASH)) return null;
  const traceId = v.slice(3, 35);
  const spanId = v.slice(36, 52);
  if (traceId === ZERO32 || spanId === ZERO16) return null;
  const state = tracestate === undefined ? '' : typeof tracestate === 'string' ? tracestate : tracestate.join(',');
  return { traceId, spanId, sampled: (hexValue(v.charCodeAt(54)) & 1) === 1, debug: false, tracestate: state };
}

const TRACEPARENT_LENGTH = 55;
const DASH = 0x2d;

/** True when v[from, to) is all lower-case hex digits. */
function lowerHexAt(v: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (hexValue(v.charCodeAt(i)) < 0) return false;
  return true;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** What trim() might remove: ASCII controls and space, or anything non-ASCII (trim decides). */
function isSpace(c: number): boolean {
  return c <= 0x20 || c >= 0x7f;
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

/** Ids from a pooled random buffer: one crypto call per 256-512 ids, not one per request. */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = POOL_BYTES;

/** The offset of `bytes` fresh random bytes in `pool`. */
function takeRandom(bytes: number): number {
  if (offset + bytes > pool.length) {
    if (pool.length === 0) pool = Buffer.allocUnsafe(POOL_BYTES);
    randomFillSync(pool);
    offset = 0;
  }
  const at = offset;
  offset += bytes;
  return at;
}

function randomHex(bytes: number): string {
  const at = takeRandom(bytes);
  return pool.toString('hex', at, at + bytes);
}

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** Where a UUID's text is assembled: one string made per id, no pieces. */
const uuidText = Buffer.allocUnsafe(36);

/**
 * A random (version 4) UUID, as x-request-id carries it. Same format as crypto.randomUUID, but from the
 * pool and written in place: randomUUID builds its string from a dozen pieces, on every request.
 */
export function newRequestId(): string {
  const at = takeRandom(16);
  let o = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) uuidText[o++] = 0x2d; // -
    let b = pool[at + i]!;
    if (i === 6) b = (b & 0x0f) | 0x40; // version 4
    else if (i === 8) b = (b & 0x3f) | 0x80; // RFC 4122 variant
    uuidText[o++] = HEX_DIGITS[b >> 4]!;
    uuidText[o++] = HEX_DIGITS[b & 0x0f]!;
  }
  return uuidText.toString('latin1', 0, 36);
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
