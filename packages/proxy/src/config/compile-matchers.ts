import type { EnvoyJson } from '@trellis/envoy-api';
import { headerValue, type RouteRequest } from '../router/route-request.js';
import type { RouteMatcher } from '../router/route.js';
import { compileSafeRegex } from './safe-regex.js';
import { Where, bool, enumName, list, num, obj, oneofKey, str, wrappedBool } from './envoy-values.js';

/** A compiled envoy.type.matcher.v3.StringMatcher. */
export type StringMatch = (value: string) => boolean;

export function compileRegex(where: Where, regexMatcher: unknown, field: string): RegExp {
  const m = obj(where, regexMatcher, field) ?? where.reject(field, 'a regex matcher is required');
  const pattern = str(where, m.regex, `${field}.regex`) ?? where.reject(`${field}.regex`, 'a pattern is required');
  try {
    return compileSafeRegex(pattern);
  } catch (e) {
    return where.reject(`${field}.regex`, `invalid regex ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
}

const STRING_MATCH_KINDS = ['exact', 'prefix', 'suffix', 'contains', 'safe_regex', 'custom'] as const;

export function compileStringMatcher(where: Where, v: unknown, field: string): StringMatch {
  const m = obj(where, v, field) ?? where.reject(field, 'a string matcher is required');
  const kind = oneofKey(m, STRING_MATCH_KINDS);
  const ignoreCase = bool(where, m.ignore_case, `${field}.ignore_case`) ?? false;
  if (kind === undefined) return where.reject(field, 'one of exact, prefix, suffix, contains, safe_regex is required');
  if (kind === 'custom') return where.reject(`${field}.custom`, 'custom string matchers are not supported');
  if (kind === 'safe_regex') {
    const re = compileRegex(where, m.safe_regex, `${field}.safe_regex`);
    return (s) => re.test(s);
  }
  const raw = str(where, m[kind], `${field}.${kind}`) ?? '';
  if (raw === '' && kind !== 'exact') where.reject(`${field}.${kind}`, 'must not be empty');
  const want = ignoreCase ? raw.toLowerCase() : raw;
  const norm = ignoreCase ? (s: string) => s.toLowerCase() : (s: string) => s;
  switch (kind) {
    case 'exact':
      return (s) => norm(s) === want;
    case 'prefix':
      return (s) => norm(s).startsWith(want);
    case 'suffix':
      return (s) => norm(s).endsWith(want);
    case 'contains':
      return (s) => norm(s).includes(want);
  }
}

const HEADER_MATCH_KINDS = [
  'exact_match',
  'safe_regex_match',
  'range_match',
  'present_match',
  'prefix_match',
  'suffix_match',
  'contains_match',
  'string_match',
] as const;

/**
 * A route.v3.HeaderMatcher. A missing header matches nothing (inverted or not) unless
 * `treat_missing_header_as_empty`; `present_match` tests presence itself; no specifier means present.
 */
export function compileHeaderMatcher(where: Where, v: unknown, field: string): RouteMatcher {
  const m = obj(where, v, field) ?? where.reject(field, 'a header matcher is required');
  const name = (str(where, m.name, `${field}.name`) ?? '').toLowerCase();
  if (name === '') where.reject(`${field}.name`, 'a header name is required');
  const invert = bool(where, m.invert_match, `${field}.invert_match`) ?? false;
  const missingAsEmpty = bool(where, m.treat_missing_header_as_empty, `${field}.treat_missing_header_as_empty`) ?? false;
  const kind = oneofKey(m, HEADER_MATCH_KINDS);
  if (kind === undefined || kind === 'present_match') {
    const wantPresent = kind === undefined ? true : (bool(where, m.present_match, `${field}.present_match`) ?? false);
    return (req) => ((headerValue(req, name) !== undefined) === wantPresent) !== invert;
  }
  const test = headerValueTest(where, m, kind, `${field}.${kind}`);
  return (req) => {
    let value = headerValue(req, name);
    if (value === undefined) {
      if (!missingAsEmpty) return false;
      value = '';
    }
    return test(value) !== invert;
  };
}

function headerValueTest(where: Where, m: EnvoyJson, kind: (typeof HEADER_MATCH_KINDS)[number], field: string): StringMatch {
  switch (kind) {
    case 'string_match':
      return compileStringMatcher(where, m.string_match, field);
    case 'safe_regex_match': {
      const re = compileRegex(where, m.safe_regex_match, field);
      return (s) => re.test(s);
    }
    case 'range_match': {
      const r = obj(where, m.range_match, field)!;
      const start = num(where, r.start, `${field}.start`) ?? 0;
      const end = num(where, r.end, `${field}.end`) ?? 0;
      if (start >= end) where.reject(field, `the range [${start}, ${end}) is empty`);
      return (s) => {
        if (!/^[+-]?\d+$/.test(s)) return false;
        const n = Number(s);
        return n >= start && n < end;
      };
    }
    default: {
      const want = str(where, m[kind], field) ?? '';
      if (want === '' && kind !== 'exact_match') where.reject(field, 'must not be empty');
      if (kind === 'exact_match') return (s) => s === want;
      if (kind === 'prefix_match') return (s) => s.startsWith(want);
      if (kind === 'suffix_match') return (s) => s.endsWith(want);
      return (s) => s.includes(want);
    }
  }
}

/** A route.v3.QueryParameterMatcher: `string_match`, or `present_match`; neither means present. */
export function compileQueryMatcher(where: Where, v: unknown, field: string): RouteMatcher {
  const m = obj(where, v, field) ?? where.reject(field, 'a query parameter matcher is required');
  const name = str(where, m.name, `${field}.name`) ?? '';
  if (name === '') where.reject(`${field}.name`, 'a query parameter name is required');
  if (m.string_match !== undefined && m.string_match !== null) {
    const test = compileStringMatcher(where, m.string_match, `${field}.string_match`);
    return (req) => {
      const value = req.queryParams().get(name);
      return value !== undefined && test(value);
    };
  }
  return (req) => req.queryParams().has(name);
}

/** What compiling a route's match yields: the matcher, and how much of `:path` a prefix_rewrite replaces. */
export interface CompiledRouteMatch {
  readonly matcher: RouteMatcher;
  /** Length of the matched prefix (or exact path); null for regex matches (a prefix_rewrite swaps the whole path). */
  readonly matchedLength: number | null;
}

const PATH_KINDS = ['prefix', 'path', 'safe_regex', 'path_separated_prefix', 'connect_matcher', 'path_match_policy'] as const;
const UNSUPPORTED_MATCH_FIELDS = ['dynamic_metadata', 'filter_state', 'tls_context', 'cel_expr'] as const;

export function compileRouteMatch(where: Where, v: unknown, field: string): CompiledRouteMatch {
  const m = obj(where, v, field) ?? where.reject(field, 'a route match is required');
  for (const f of UNSUPPORTED_MATCH_FIELDS) {
    if (m[f] !== undefined && !(Array.isArray(m[f]) && (m[f] as unknown[]).length === 0)) {
      where.reject(`${field}.${f}`, `matching on ${f} is not supported`);
    }
  }
  const caseSensitive = wrappedBool(where, m.case_sensitive, `${field}.case_sensitive`) ?? true;
  const { test: pathTest, matchedLength } = compilePathMatch(where, m, caseSensitive, field);
  const checks: RouteMatcher[] = [pathTest];
  list(where, m.headers, `${field}.headers`).forEach((h, i) => checks.push(compileHeaderMatcher(where, h, `${field}.headers[${i}]`)));
  list(where, m.query_parameters, `${field}.query_parameters`).forEach((q, i) =>
    checks.push(compileQueryMatcher(where, q, `${field}.query_parameters[${i}]`)),
  );
  if (m.grpc !== undefined && m.grpc !== null) checks.push(isGrpc);
  if (m.runtime_fraction !== undefined && m.runtime_fraction !== null) {
    checks.push(compileRuntimeFraction(where, m.runtime_fraction, `${field}.runtime_fraction`));
  }
  const matcher: RouteMatcher =
    checks.length === 1
      ? pathTest
      : (req) => {
          for (let i = 0; i < checks.length; i++) if (!checks[i]!(req)) return false;
          return true;
        };
  return { matcher, matchedLength };
}

function compilePathMatch(
  where: Where,
  m: EnvoyJson,
  caseSensitive: boolean,
  field: string,
): { test: RouteMatcher; matchedLength: number | null } {
  const kind = oneofKey(m, PATH_KINDS);
  if (kind === undefined) return where.reject(field, 'one of prefix, path, safe_regex, path_separated_prefix is required');
  if (kind === 'connect_matcher' || kind === 'path_match_policy') {
    return where.reject(`${field}.${kind}`, `${kind} routes are not supported`);
  }
  if (kind === 'safe_regex') {
    const re = compileRegex(where, m.safe_regex, `${field}.safe_regex`);
    return { test: (req) => re.test(req.pathNoQuery), matchedLength: null };
  }
  const value = str(where, m[kind], `${field}.${kind}`) ?? '';
  const want = caseSensitive ? value : value.toLowerCase();
  const fold = caseSensitive ? (s: string) => s : (s: string) => s.toLowerCase();
  switch (kind) {
    case 'prefix':
      // Envoy compares the prefix against the whole :path, query included.
      return { test: (req) => fold(req.path).startsWith(want), matchedLength: want.length };
    case 'path':
      return { test: (req) => fold(req.pathNoQuery) === want, matchedLength: want.length };
    case 'path_separated_prefix': {
      if (value.endsWith('/')) where.reject(`${field}.${kind}`, 'must not end with "/"');
      return {
        test: (req) => {
          const p = fold(req.pathNoQuery);
          return p.startsWith(want) && (p.length === want.length || p.charCodeAt(want.length) === 47 /* / */);
        },
        matchedLength: want.length,
      };
    }
  }
}

function isGrpc(req: RouteRequest): boolean {
  const ct = req.headers['content-type'];
  return typeof ct === 'string' && ct.startsWith('application/grpc');
}

const DENOMINATORS = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 } as const;

/** `runtime_fraction`: Envoy has no runtime here, so the default value decides. */
function compileRuntimeFraction(where: Where, v: unknown, field: string): RouteMatcher {
  const rf = obj(where, v, field)!;
  const dv = obj(where, rf.default_value, `${field}.default_value`);
  if (!dv) return () => false;
  const numerator = num(where, dv.numerator, `${field}.default_value.numerator`) ?? 0;
  const denominator =
    DENOMINATORS[
      enumName(where, dv.denominator, `${field}.default_value.denominator`, ['HUNDRED', 'TEN_THOUSAND', 'MILLION'], 'HUNDRED')
    ];
  return () => Math.random() * denominator < numerator;
}
