import type { EnvoyJson } from '@trellis/envoy-api';
import type { HTTPMatchRequest, StringMatch } from '../model/istio-types.js';
import { labelsMatch } from '../registry/labels.js';
import type { ProxyIdentity } from '../registry/proxy-identity.js';

/** Where routes are being built: which port's virtual host, for which proxy. */
export interface MatchContext {
  port: number;
  proxy: ProxyIdentity;
  /**
   * On a gateway: whether a match's `gateways` names the Gateway being built (resolved against the
   * VirtualService's namespace). Absent for sidecars, whose gateway is `mesh`.
   */
  gateway?: (names: readonly string[]) => boolean;
}

/** An RE2 regex matcher, Envoy's only engine (google_re2 is the engine's name, kept for older Envoys). */
export function regexMatcher(regex: string): EnvoyJson {
  return { google_re2: {}, regex };
}

/** envoy.type.matcher.v3.StringMatcher for an Istio StringMatch; undefined when it names no matcher. */
export function stringMatcher(m: StringMatch | undefined): EnvoyJson | undefined {
  if (!m) return undefined;
  if (typeof m.exact === 'string') return { exact: m.exact };
  if (typeof m.prefix === 'string') return { prefix: m.prefix };
  if (typeof m.regex === 'string') return { safe_regex: regexMatcher(m.regex) };
  return undefined;
}

/** `{}`, and `regex: "*"` (not RE2: Istio's metacharacter for "any value"), test presence only. */
function presenceOnly(m: StringMatch | undefined): boolean {
  return m?.regex === '*' || stringMatcher(m) === undefined;
}

/**
 * A header matcher; presence-only matches become `present_match`. `invert` turns it into a withoutHeaders
 * condition, which a request without the header satisfies (Istio sets treat_missing_header_as_empty).
 */
export function headerMatcher(name: string, m: StringMatch | undefined, invert = false): EnvoyJson {
  const out: EnvoyJson = { name: name.toLowerCase() };
  const presence = presenceOnly(m);
  if (presence) out.present_match = true;
  else out.string_match = stringMatcher(m);
  if (invert) {
    out.invert_match = true;
    if (!presence) out.treat_missing_header_as_empty = true;
  }
  return out;
}

function queryParameterMatcher(name: string, m: StringMatch | undefined): EnvoyJson {
  return presenceOnly(m) ? { name, present_match: true } : { name, string_match: stringMatcher(m) };
}

/**
 * Whether a match applies to this proxy and port at all: `port`, `sourceLabels`, `sourceNamespace` and
 * `gateways` select who the match is for, they aren't request properties Envoy could test.
 */
export function matchApplies(m: HTTPMatchRequest, ctx: MatchContext): boolean {
  if (typeof m.port === 'number' && m.port !== 0 && m.port !== ctx.port) return false;
  if (m.sourceLabels && !labelsMatch(ctx.proxy.labels, m.sourceLabels)) return false;
  if (m.sourceNamespace && m.sourceNamespace !== ctx.proxy.namespace) return false;
  if (m.gateways && m.gateways.length > 0 && !(ctx.gateway ? ctx.gateway(m.gateways) : m.gateways.includes('mesh'))) return false;
  return true;
}

const entries = (r: Record<string, StringMatch> | undefined) => Object.entries(r ?? {}).filter(([k]) => k !== '');

/** envoy.config.route.v3.RouteMatch for one Istio match (no match = every path). */
export function routeMatch(m: HTTPMatchRequest | undefined): EnvoyJson {
  const out: EnvoyJson = {};
  const uri = m?.uri;
  if (typeof uri?.exact === 'string') out.path = uri.exact;
  else if (typeof uri?.prefix === 'string') out.prefix = uri.prefix;
  else if (typeof uri?.regex === 'string') out.safe_regex = regexMatcher(uri.regex);
  else out.prefix = '/';
  if (m?.ignoreUriCase) out.case_sensitive = { value: false };

  const headers: EnvoyJson[] = [];
  for (const [name, sm] of entries(m?.headers)) headers.push(headerMatcher(name, sm));
  for (const [name, sm] of entries(m?.withoutHeaders)) headers.push(headerMatcher(name, sm, true));
  if (m?.method) headers.push(headerMatcher(':method', m.method));
  if (m?.authority) headers.push(headerMatcher(':authority', m.authority));
  if (m?.scheme) headers.push(headerMatcher(':scheme', m.scheme));
  if (headers.length > 0) out.headers = headers;

  const query = entries(m?.queryParams).map(([name, sm]) => queryParameterMatcher(name, sm));
  if (query.length > 0) out.query_parameters = query;
  return out;
}
