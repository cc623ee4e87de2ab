import type { EnvoyJson } from '@trellis/envoy-api';
import type { HTTPMatchRequest, StringMatch } from '../model/istio-types.js';
import { labelsMatch } from '../registry/labels.js';
import type { ProxyIdentity } from '../registry/proxy-identity.js';

/** Where routes are being built: which port's virtual host, for which proxy. */
export interface MatchContext {
  port: number;
  proxy: ProxyIdentity;
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

/** A header matcher; `{}` means "present", `invert` turns it into withoutHeaders. */
export function headerMatcher(name: string, m: StringMatch | undefined, invert = false): EnvoyJson {
  const string = stringMatcher(m);
  const out: EnvoyJson = { name: name.toLowerCase() };
  if (string) out.string_match = string;
  else out.present_match = true;
  if (invert) out.invert_match = true;
  return out;
}

function queryParameterMatcher(name: string, m: StringMatch | undefined): EnvoyJson {
  const string = stringMatcher(m);
  return string ? { name, string_match: string } : { name, present_match: true };
}

/**
 * Whether a match applies to this proxy and port at all: `port`, `sourceLabels`, `sourceNamespace` and
 * `gateways` select who the match is for, they aren't request properties Envoy could test.
 */
export function matchApplies(m: HTTPMatchRequest, ctx: MatchContext): boolean {
  if (typeof m.port === 'number' && m.port !== 0 && m.port !== ctx.port) return false;
  if (m.sourceLabels && !labelsMatch(ctx.proxy.labels, m.sourceLabels)) return false;
  if (m.sourceNamespace && m.sourceNamespace !== ctx.proxy.namespace) return false;
  if (m.gateways && m.gateways.length > 0 && !m.gateways.includes('mesh')) return false;
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

// ---------------------------------------------------------------- delegation

/** Two string matches on one property: the narrower one if one contains the other, else undefined (conflict). */
function narrower(root: StringMatch | undefined, child: StringMatch | undefined): StringMatch | undefined | 'conflict' {
  if (!root) return child;
  if (!child) return root;
  if (JSON.stringify(root) === JSON.stringify(child)) return root;
  if (typeof root.prefix === 'string') {
    if (typeof child.prefix === 'string' && child.prefix.startsWith(root.prefix)) return child;
    if (typeof child.exact === 'string' && child.exact.startsWith(root.prefix)) return child;
  }
  return 'conflict';
}

function mergeRecords(
  root: Record<string, StringMatch> | undefined,
  child: Record<string, StringMatch> | undefined,
): Record<string, StringMatch> | undefined | 'conflict' {
  if (!root) return child;
  if (!child) return root;
  const out = { ...root };
  for (const [k, v] of Object.entries(child)) {
    if (k in out && JSON.stringify(out[k]) !== JSON.stringify(v)) return 'conflict';
    out[k] = v;
  }
  return out;
}

/**
 * A delegate route's match ANDed with the delegating route's (Istio's mergeHTTPMatchRequest): the child
 * may narrow what the root matches but not contradict it. Undefined when they contradict: such a child
 * match can never be reached through this root.
 */
export function mergeMatch(root: HTTPMatchRequest | undefined, child: HTTPMatchRequest | undefined): HTTPMatchRequest | undefined {
  if (!root) return child ?? {};
  if (!child) return root;
  const out: HTTPMatchRequest = { ...root, ...child };
  for (const key of ['uri', 'scheme', 'method', 'authority'] as const) {
    const merged = narrower(root[key], child[key]);
    if (merged === 'conflict') return undefined;
    if (merged) out[key] = merged;
  }
  for (const key of ['headers', 'withoutHeaders', 'queryParams'] as const) {
    const merged = mergeRecords(root[key], child[key]);
    if (merged === 'conflict') return undefined;
    if (merged) out[key] = merged;
  }
  if (root.port && child.port && root.port !== child.port) return undefined;
  out.port = root.port || child.port;
  if (root.sourceLabels || child.sourceLabels) out.sourceLabels = { ...root.sourceLabels, ...child.sourceLabels };
  if (root.sourceNamespace && child.sourceNamespace && root.sourceNamespace !== child.sourceNamespace) return undefined;
  out.sourceNamespace = root.sourceNamespace || child.sourceNamespace;
  out.ignoreUriCase = Boolean(root.ignoreUriCase || child.ignoreUriCase);
  out.name = [root.name, child.name].filter(Boolean).join('.') || undefined;
  return out;
}
