import { sample } from '../../config/fractional-percent.js';
import type { HeaderMap } from '../../router/header-mutations.js';
import { FILTER_DISABLED } from '../../router/route.js';
import type { ActiveStream } from '../active-stream.js';
import type { FilterStatus, HttpFilter } from '../http-filter.js';
import { CorsPolicy } from './cors-policy.js';

/**
 * envoy.filters.http.cors, with Envoy's semantics. The policy is the route's per-filter config (merged over
 * its virtual host's). A request with an allowed Origin is a CORS request: its response gets
 * access-control-allow-origin (the Origin itself), -allow-credentials and -expose-headers. A preflight
 * (OPTIONS + Origin + Access-Control-Request-Method) is answered here with 200; when its origin doesn't
 * match it goes upstream, unless `forward_not_matching_preflights` is false (Istio's
 * `unmatchedPreflights: IGNORE`), in which case it is answered without access-control-allow-origin.
 */
export class CorsFilter implements HttpFilter {
  constructor(readonly name: string) {}

  decodeHeaders(stream: ActiveStream): FilterStatus {
    const policy = stream.perFilterConfig(this.name);
    if (policy === undefined || policy === FILTER_DISABLED || !(policy instanceof CorsPolicy)) return 'continue';
    // Shadow mode (enabled false, shadow true) only feeds Envoy's origin stats: nothing to do here.
    if (!sample(policy.enabledFraction)) return 'continue';
    const origin = stream.headers.origin;
    if (typeof origin !== 'string' || origin === '') return 'continue';
    const allowed = policy.isOriginAllowed(origin);
    if (allowed) {
      stream.corsOrigin = origin;
      stream.corsPolicy = policy;
    }
    if (stream.method !== 'OPTIONS') return 'continue';
    const requestMethod = stream.headers['access-control-request-method'];
    if (typeof requestMethod !== 'string' || requestMethod === '') return 'continue';
    if (!allowed && policy.forwardsNotMatchingPreflights) return 'continue';
    stream.sendLocalReply(200, '', 0, 'cors_response', preflightHeaders(stream, policy, allowed ? origin : null, requestMethod));
    return 'stop';
  }

  encodeHeaders(stream: ActiveStream, _status: number, headers: HeaderMap): void {
    const origin = stream.corsOrigin;
    if (origin === null) return;
    const policy = stream.corsPolicy as CorsPolicy;
    headers['access-control-allow-origin'] = origin;
    if (policy.credentials) headers['access-control-allow-credentials'] = 'true';
    if (policy.exposeHeaders !== '') headers['access-control-expose-headers'] = policy.exposeHeaders;
  }
}

function preflightHeaders(stream: ActiveStream, p: CorsPolicy, origin: string | null, requestMethod: string): HeaderMap {
  const out: HeaderMap = {};
  if (origin !== null) out['access-control-allow-origin'] = origin;
  if (p.credentials) out['access-control-allow-credentials'] = 'true';
  if (p.allowMethods !== '') out['access-control-allow-methods'] = p.allowMethods === '*' ? requestMethod : p.allowMethods;
  if (p.allowHeaders !== '') {
    if (p.allowHeaders !== '*') out['access-control-allow-headers'] = p.allowHeaders;
    else {
      const asked = stream.headers['access-control-request-headers'];
      if (typeof asked === 'string' && asked !== '') out['access-control-allow-headers'] = asked;
    }
  }
  if (p.maxAge !== '') out['access-control-max-age'] = p.maxAge;
  if (p.privateNetworkAccess && stream.headers['access-control-request-private-network'] === 'true') {
    out['access-control-allow-private-network'] = 'true';
  }
  return out;
}
