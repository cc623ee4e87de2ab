import { EXTENSION_TYPE_URL, type EnvoyJson } from '@trellis/envoy-api';
import type { CorsPolicy, HTTPFaultInjection } from '../model/istio-types.js';
import type { ProxyIdentity } from '../registry/proxy-identity.js';
import { HTTP_FILTER, MORE_TYPE_URL } from './names.js';
import { regexMatcher } from './route-match.js';
import { integerPercentToFraction, parseDuration, percentToFraction } from './values.js';

/** gRPC status names as Istio's grpcStatus takes them. */
const GRPC_CODES: Record<string, number> = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
};

function grpcCode(status: string): number | undefined {
  const s = status.trim().toUpperCase();
  if (/^\d+$/.test(s)) return Number(s);
  return GRPC_CODES[s];
}

/**
 * envoy.extensions.filters.http.fault.v3.HTTPFault for a route (Istio's translateFault). A percentage left
 * out means no request is affected, as Istio documents; an abort Envoy can't express (http2Error) is dropped.
 */
export function faultConfig(fault: HTTPFaultInjection | undefined): EnvoyJson | undefined {
  if (!fault) return undefined;
  const out: EnvoyJson = { '@type': EXTENSION_TYPE_URL.fault };
  const delay = fault.delay;
  const fixed = parseDuration(delay?.fixedDelay);
  if (delay && fixed) {
    const percentage = delay.percentage
      ? percentToFraction(delay.percentage.value)
      : typeof delay.percent === 'number' ? integerPercentToFraction(delay.percent) : percentToFraction(0);
    out.delay = { fixed_delay: fixed, percentage };
  }
  const abort = fault.abort;
  if (abort) {
    const percentage = percentToFraction(abort.percentage?.value);
    const grpc = typeof abort.grpcStatus === 'string' ? grpcCode(abort.grpcStatus) : undefined;
    if (typeof abort.httpStatus === 'number' && abort.httpStatus >= 200 && abort.httpStatus < 600) {
      out.abort = { http_status: abort.httpStatus, percentage };
    } else if (grpc !== undefined) {
      out.abort = { grpc_status: grpc, percentage };
    }
  }
  return out.delay || out.abort ? out : undefined;
}

/** allowOrigins when given, else the deprecated exact-match allowOrigin (Istio reads one or the other). */
function originMatchers(cors: CorsPolicy): EnvoyJson[] {
  const out: EnvoyJson[] = [];
  if (cors.allowOrigins) {
    for (const m of cors.allowOrigins) {
      if (typeof m?.exact === 'string') out.push({ exact: m.exact });
      else if (typeof m?.prefix === 'string') out.push({ prefix: m.prefix });
      else if (typeof m?.regex === 'string') out.push({ safe_regex: regexMatcher(m.regex) });
    }
    return out;
  }
  // Envoy's CORS filter reads an origin matcher that matches "*" as "any origin".
  for (const o of cors.allowOrigin ?? []) if (typeof o === 'string') out.push({ exact: o });
  return out;
}

/** envoy.extensions.filters.http.cors.v3.CorsPolicy for a route (Istio's translateCORSPolicy). */
export function corsConfig(cors: CorsPolicy | undefined): EnvoyJson | undefined {
  if (!cors) return undefined;
  const out: EnvoyJson = {
    '@type': EXTENSION_TYPE_URL.corsPolicy,
    allow_origin_string_match: originMatchers(cors),
    filter_enabled: { default_value: { numerator: 100, denominator: 'HUNDRED' } },
  };
  const join = (l: string[] | undefined) => (l && l.length > 0 ? l.join(',') : undefined);
  if (join(cors.allowMethods)) out.allow_methods = join(cors.allowMethods);
  if (join(cors.allowHeaders)) out.allow_headers = join(cors.allowHeaders);
  if (join(cors.exposeHeaders)) out.expose_headers = join(cors.exposeHeaders);
  const maxAge = parseDuration(cors.maxAge);
  if (maxAge) out.max_age = String(maxAge.seconds);
  if (typeof cors.allowCredentials === 'boolean') out.allow_credentials = { value: cors.allowCredentials };
  // Preflights that match no allowed origin go on to the app unless told to IGNORE (Istio always says which).
  out.forward_not_matching_preflights = { value: cors.unmatchedPreflights !== 'IGNORE' };
  return out;
}

/**
 * typed_per_filter_config for a route. gRPC's xDS client has no CORS filter and rejects per-route config
 * for filters it doesn't know unless wrapped as an optional FilterConfig; Envoy reads both forms.
 */
export function perFilterConfig(
  fault: HTTPFaultInjection | undefined,
  cors: CorsPolicy | undefined,
  proxyType: ProxyIdentity['type'],
): Record<string, EnvoyJson> | undefined {
  const out: Record<string, EnvoyJson> = {};
  const f = faultConfig(fault);
  if (f) out[HTTP_FILTER.fault] = f;
  const c = corsConfig(cors);
  if (c) out[HTTP_FILTER.cors] = proxyType === 'grpc' ? { '@type': MORE_TYPE_URL.filterConfig, config: c, is_optional: true } : c;
  return Object.keys(out).length > 0 ? out : undefined;
}
