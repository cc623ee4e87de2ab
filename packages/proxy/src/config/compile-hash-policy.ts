import type { HashMethod, HashPolicy } from '../cluster/hash/hash-policy.js';
import { Where, bool, durationMs, list, obj, oneofKey, str } from './envoy-values.js';
import { compileSafeRegexSearch } from './safe-regex.js';

const METHODS = ['header', 'cookie', 'connection_properties', 'query_parameter', 'filter_state'] as const;

/**
 * A route's `hash_policy` (RouteAction.HashPolicy list); null when empty. Header (with `regex_rewrite`),
 * cookie (with a generated cookie when `ttl` is set), source IP and query parameter are supported;
 * filter_state is refused.
 */
export function compileHashPolicy(where: Where, v: unknown, field: string): HashPolicy | null {
  const methods = list(where, v, field).map((h, i) => compileMethod(where, obj(where, h, `${field}[${i}]`)!, `${field}[${i}]`));
  return methods.length === 0 ? null : { methods };
}

function compileMethod(where: Where, h: Record<string, unknown>, f: string): HashMethod {
  const terminal = bool(where, h.terminal, `${f}.terminal`) ?? false;
  const kind = oneofKey(h, METHODS);
  switch (kind) {
    case 'header': {
      const o = obj(where, h.header, `${f}.header`)!;
      const name = (str(where, o.header_name, `${f}.header.header_name`) ?? '').toLowerCase();
      if (name === '') where.reject(`${f}.header.header_name`, 'a header name is required');
      return { kind: 'header', name, rewrite: rewrite(where, o.regex_rewrite, `${f}.header.regex_rewrite`), terminal };
    }
    case 'cookie': {
      const o = obj(where, h.cookie, `${f}.cookie`)!;
      const name = str(where, o.name, `${f}.cookie.name`) ?? '';
      if (name === '') where.reject(`${f}.cookie.name`, 'a cookie name is required');
      const ttl = durationMs(where, o.ttl, `${f}.cookie.ttl`);
      const attributes = list(where, o.attributes, `${f}.cookie.attributes`)
        .map((a, i) => {
          const at = obj(where, a, `${f}.cookie.attributes[${i}]`)!;
          const n = str(where, at.name, `${f}.cookie.attributes[${i}].name`) ?? '';
          const val = str(where, at.value, `${f}.cookie.attributes[${i}].value`) ?? '';
          return val === '' ? `; ${n}` : `; ${n}=${val}`;
        })
        .join('');
      return {
        kind: 'cookie',
        name,
        path: str(where, o.path, `${f}.cookie.path`) ?? '',
        // Envoy counts Max-Age in whole seconds.
        ttlSeconds: ttl === undefined ? null : Math.floor(ttl / 1000),
        attributes,
        terminal,
      };
    }
    case 'connection_properties': {
      const o = obj(where, h.connection_properties, `${f}.connection_properties`)!;
      if (!(bool(where, o.source_ip, `${f}.connection_properties.source_ip`) ?? false)) {
        where.reject(`${f}.connection_properties.source_ip`, 'connection_properties hashes on source_ip only; it must be true');
      }
      return { kind: 'source_ip', terminal };
    }
    case 'query_parameter': {
      const o = obj(where, h.query_parameter, `${f}.query_parameter`)!;
      const name = str(where, o.name, `${f}.query_parameter.name`) ?? '';
      if (name === '') where.reject(`${f}.query_parameter.name`, 'a parameter name is required');
      return { kind: 'query_parameter', name, terminal };
    }
    case 'filter_state':
      return where.reject(`${f}.filter_state`, 'hashing on filter state is not supported');
    case undefined:
      return where.reject(f, 'one of header, cookie, connection_properties, query_parameter is required');
  }
}

function rewrite(where: Where, v: unknown, f: string): { pattern: RegExp; substitution: string } | null {
  const r = obj(where, v, f);
  if (!r) return null;
  const pm = obj(where, r.pattern, `${f}.pattern`) ?? where.reject(`${f}.pattern`, 'required');
  const source = str(where, pm.regex, `${f}.pattern.regex`) ?? '';
  let pattern: RegExp;
  try {
    pattern = compileSafeRegexSearch(source);
  } catch (e) {
    return where.reject(`${f}.pattern.regex`, `invalid regex ${JSON.stringify(source)}: ${(e as Error).message}`);
  }
  // RE2's `\1` is JavaScript's `$1`; a literal `$` stays literal.
  const substitution = (str(where, r.substitution, `${f}.substitution`) ?? '').replace(/\$/g, '$$$$').replace(/\\(\d)/g, '$$$1');
  return { pattern, substitution };
}
