import type { IncomingHttpHeaders } from 'node:http';
import type { HeaderMap, HeaderMutations } from '../router/header-mutations.js';

/** Connection-specific headers a proxy never forwards (RFC 9110 §7.6.1, plus HTTP/2's list). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'http2-settings',
]);

export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name);
}

/**
 * Copies request headers for the next hop: pseudo-headers, Host (the pool sets it from the authority) and
 * hop-by-hop headers (with the ones `Connection` names) are left out; `te: trailers` survives, as gRPC
 * needs it; `expect: 100-continue` was answered here (Envoy's default), so it is dropped. Headers that
 * header-edit levels remove are left out here already: deleting them afterwards would turn the map into a
 * slow dictionary-mode object (the inbound route removes one on every request). Any level's removal drops
 * every value present then, original ones included, so leaving them out first gives the same result.
 */
export function copyRequestHeaders(src: IncomingHttpHeaders, removed: readonly HeaderMutations[] = NO_LEVELS, alsoRemoved: HeaderMutations | null = null): HeaderMap {
  const out: HeaderMap = {};
  const named = namedHopHeaders(src.connection);
  for (const name in src) {
    const v = src[name];
    if (v === undefined || name.charCodeAt(0) === 58 /* : */ || name === 'host') continue;
    if (HOP_BY_HOP.has(name)) {
      if (name === 'te' && typeof v === 'string' && hasTrailersToken(v)) out.te = 'trailers';
      continue;
    }
    if (name === 'expect' && typeof v === 'string' && v.toLowerCase() === '100-continue') continue;
    if (named !== null && named.includes(name)) continue;
    if (isRemoved(name, removed) || (alsoRemoved !== null && alsoRemoved.remove.includes(name))) continue;
    out[name] = v;
  }
  return out;
}

const NO_LEVELS: readonly HeaderMutations[] = [];

function isRemoved(name: string, levels: readonly HeaderMutations[]): boolean {
  for (let i = 0; i < levels.length; i++) if (levels[i]!.remove.includes(name)) return true;
  return false;
}

/** Copies response headers for the downstream: no pseudo-headers, no hop-by-hop headers. */
export function copyResponseHeaders(src: IncomingHttpHeaders): HeaderMap {
  const out: HeaderMap = {};
  const named = namedHopHeaders(src.connection);
  for (const name in src) {
    const v = src[name];
    if (v === undefined || name.charCodeAt(0) === 58 || HOP_BY_HOP.has(name)) continue;
    if (named !== null && named.includes(name)) continue;
    out[name] = v;
  }
  return out;
}

/** Trailers for the next hop: regular fields only. */
export function copyTrailers(src: IncomingHttpHeaders): HeaderMap | null {
  let out: HeaderMap | null = null;
  for (const name in src) {
    const v = src[name];
    if (v === undefined || name.charCodeAt(0) === 58 || HOP_BY_HOP.has(name)) continue;
    (out ??= {})[name] = v;
  }
  return out;
}

/** The extra hop-by-hop headers a Connection header names; null for none (keep-alive and close, the usual values, name none). */
function namedHopHeaders(v: string | string[] | undefined): string[] | null {
  if (v === undefined || v === 'keep-alive' || v === 'close') return null;
  return connectionTokens(v);
}

function connectionTokens(v: string | string[]): string[] {
  const s = typeof v === 'string' ? v : v.join(',');
  return s
    .toLowerCase()
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '' && t !== 'close' && t !== 'keep-alive' && t !== 'upgrade');
}

function hasTrailersToken(v: string): boolean {
  return v
    .toLowerCase()
    .split(',')
    .some((t) => t.trim().split(';')[0] === 'trailers');
}

/** True when the header lists the token (case-insensitive, comma-separated). */
export function headerHasToken(v: string | string[] | undefined, token: string): boolean {
  if (v === undefined) return false;
  if (v === token) return true;
  if (v === 'keep-alive' || v === 'close') return false; // what almost every Connection header says
  const s = (typeof v === 'string' ? v : v.join(',')).toLowerCase();
  if (s === token) return true;
  return s.split(',').some((t) => t.trim() === token);
}
