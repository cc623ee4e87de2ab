import { randomBytes } from 'node:crypto';
import { headerValue, type RouteRequest } from '../../router/route-request.js';
import { xxhash64 } from './xxhash64.js';

/** One `hash_policy` entry of a route (Envoy's RouteAction.HashPolicy), compiled. */
export type HashMethod =
  | {
      readonly kind: 'header';
      /** Lower-case; pseudo-headers (`:authority`, `:path`) read the request line. */
      readonly name: string;
      /** `regex_rewrite` applied to the value before hashing. */
      readonly rewrite: { readonly pattern: RegExp; readonly substitution: string } | null;
      readonly terminal: boolean;
    }
  | {
      readonly kind: 'cookie';
      readonly name: string;
      /** `Path=` of a generated cookie ('' for none). */
      readonly path: string;
      /** Generate the cookie when missing (null: never); 0 is a session cookie (no Max-Age). */
      readonly ttlSeconds: number | null;
      /** Extra `; name=value` attributes of a generated cookie, already formatted. */
      readonly attributes: string;
      readonly terminal: boolean;
    }
  | { readonly kind: 'source_ip'; readonly terminal: boolean }
  | { readonly kind: 'query_parameter'; readonly name: string; readonly terminal: boolean };

/** A route's `hash_policy`: the methods in order (null on the route when it has none). */
export interface HashPolicy {
  readonly methods: readonly HashMethod[];
}

/** What hashing reads from a request. */
export interface HashableRequest extends RouteRequest {
  readonly remoteAddress: string;
}

/** The request's hash key (null: no method produced one) and a cookie to set on the response. */
export interface RequestHash {
  readonly hash: bigint | null;
  /** A `set-cookie` value for a cookie generated here (Envoy: when the cookie is missing and ttl is set). */
  readonly setCookie: string | null;
}

const MASK = 0xffffffffffffffffn;

/**
 * Envoy's HashPolicyImpl::generateHash: each method that yields a hash is folded in as
 * `rotl(previous, 1) ^ hash` (so repeated methods don't cancel out); a terminal method that has produced
 * a hash ends the evaluation.
 */
/**
 * Hash keys repeat (a client's IP, a user's header or cookie), and XXH64 in BigInt arithmetic allocates: the
 * hashes of recent keys are kept. Bounded: the table starts over when full.
 */
const KEY_CACHE_SIZE = 4096;
const keyHashes = new Map<string, bigint>();

function keyHash(key: string): bigint {
  let h = keyHashes.get(key);
  if (h === undefined) {
    if (keyHashes.size >= KEY_CACHE_SIZE) keyHashes.clear();
    h = xxhash64(key);
    keyHashes.set(key, h);
  }
  return h;
}

export function computeRequestHash(policy: HashPolicy, req: HashableRequest): RequestHash {
  let hash: bigint | null = null;
  let setCookie: string | null = null;
  for (const m of policy.methods) {
    let h: bigint | null = null;
    switch (m.kind) {
      case 'header':
        h = headerHash(m, req);
        break;
      case 'cookie': {
        const value = cookieValue(req.headers.cookie, m.name);
        if (value !== null) h = keyHash(value);
        else if (m.ttlSeconds !== null) {
          const generated = randomBytes(8).toString('hex');
          setCookie = setCookieValue(m, generated);
          h = xxhash64(generated);
        }
        break;
      }
      case 'source_ip':
        if (req.remoteAddress !== '') h = keyHash(req.remoteAddress);
        break;
      case 'query_parameter': {
        const v = req.queryParams().get(m.name);
        if (v !== undefined) h = keyHash(v);
        break;
      }
    }
    if (h !== null) hash = hash === null ? h : (((hash << 1n) | (hash >> 63n)) & MASK) ^ h;
    if (m.terminal && hash !== null) break;
  }
  return { hash, setCookie };
}

function headerHash(m: Extract<HashMethod, { kind: 'header' }>, req: HashableRequest): bigint | null {
  let v = headerValue(req, m.name);
  if (v === undefined) return null;
  if (m.rewrite) v = v.replace(m.rewrite.pattern, m.rewrite.substitution);
  return keyHash(v);
}

/**
 * A cookie's value from the Cookie header(s), as Envoy's parseCookieValue reads it: `name=value` pairs
 * split on ';', first match wins, surrounding double quotes removed. Null when absent.
 */
export function cookieValue(header: string | string[] | undefined, name: string): string | null {
  if (header === undefined) return null;
  const all = typeof header === 'string' ? header : header.join('; ');
  let start = 0;
  while (start < all.length) {
    let end = all.indexOf(';', start);
    if (end < 0) end = all.length;
    const eq = all.indexOf('=', start);
    if (eq > start && eq < end && all.slice(start, eq).trim() === name) {
      let v = all.slice(eq + 1, end).trim();
      if (v.length >= 2 && v.charCodeAt(0) === 34 && v.charCodeAt(v.length - 1) === 34) v = v.slice(1, -1);
      return v;
    }
    start = end + 1;
  }
  return null;
}

/** Envoy's makeSetCookieValue: `name="value"; Max-Age=N; Path=p; attributes; HttpOnly`. */
export function setCookieValue(m: Extract<HashMethod, { kind: 'cookie' }>, value: string): string {
  let out = `${m.name}="${value}"`;
  if (m.ttlSeconds) out += `; Max-Age=${m.ttlSeconds}`;
  if (m.path !== '') out += `; Path=${m.path}`;
  return `${out}${m.attributes}; HttpOnly`;
}
