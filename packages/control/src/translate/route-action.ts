import type { EnvoyJson } from '@trellis/envoy-api';
import type {
  ConsistentHashLB,
  Destination,
  HTTPDirectResponse,
  HTTPRedirect,
  HTTPRetry,
  HTTPRoute,
  HTTPRouteDestination,
} from '../model/istio-types.js';
import { kubeServiceFqdn } from '../registry/hosts.js';
import type { MeshService } from '../registry/types.js';
import { destinationRuleFor, effectivePolicy, findSubset } from './destination-rules.js';
import { mergeEdits, translateHeaders, type HeaderEdits } from './headers.js';
import { MORE_TYPE_URL, outboundClusterName, RETRY_PREVIOUS_HOSTS, RETRY_PREVIOUS_PRIORITIES } from './names.js';
import { regexMatcher } from './route-match.js';
import type { TranslateInput } from './types.js';
import { compact, integerPercentToFraction, parseDuration, percentToFraction, type Duration } from './values.js';

/** Where a route is being translated: for whom, on which port, with short names relative to which namespace. */
export interface RouteContext {
  input: TranslateInput;
  /** The VirtualService's namespace: destination short names resolve here. */
  namespace: string;
  /** The service port the virtual host serves; a destination without a port on a multi-port service uses it. */
  port: number;
}

export interface ResolvedDestination {
  cluster: string;
  service?: MeshService;
  port: number;
  subset?: string;
}

/**
 * The cluster a destination names (Istio's GetDestinationCluster): destination.port, else the service's
 * only port, else the port being routed. A host that isn't a known service still names a cluster; Envoy
 * answers 503 (NR/NC) for it rather than the whole config failing.
 */
export function resolveDestination(ctx: RouteContext, d: Destination): ResolvedDestination {
  const service = ctx.input.registry.lookup(d.host, ctx.namespace);
  const host = String(d.host ?? '').toLowerCase();
  // Istio completes only dotless names; anything else is taken as a full host name.
  const hostname = service?.hostname ?? (host.includes('.') ? host : kubeServiceFqdn(host, ctx.namespace));
  const port =
    typeof d.port?.number === 'number' ? d.port.number : service?.ports.length === 1 ? service.ports[0]!.port : ctx.port;
  const subset = d.subset || undefined;
  return { cluster: outboundClusterName(port, subset, hostname), service, port, subset };
}

// ---------------------------------------------------------------- consistent hashing

/** The route half of a consistent-hash load balancer: what to hash (Istio's consistentHashToHashPolicy). */
export function hashPolicy(hash: ConsistentHashLB): EnvoyJson | undefined {
  if (hash.httpHeaderName) return { header: { header_name: hash.httpHeaderName } };
  if (hash.httpCookie?.name) {
    const { name, path, ttl, attributes } = hash.httpCookie;
    const attrs = (attributes ?? []).filter((a) => a?.name).map((a) => compact({ name: a.name, value: a.value || undefined }));
    return { cookie: compact({ name, path: path || undefined, ttl: parseDuration(ttl), attributes: attrs.length > 0 ? attrs : undefined }) };
  }
  if (hash.useSourceIp) return { connection_properties: { source_ip: true } };
  if (hash.httpQueryParameterName) return { query_parameter: { name: hash.httpQueryParameterName } };
  return undefined;
}

function consistentHashOf(ctx: RouteContext, dest: ResolvedDestination): ConsistentHashLB | undefined {
  if (!dest.service) return undefined;
  const dr = destinationRuleFor(ctx.input, dest.service);
  const subset = dest.subset ? findSubset(dr, dest.subset) : undefined;
  return effectivePolicy(dr, dest.port, subset).loadBalancer?.consistentHash;
}

// ---------------------------------------------------------------- retries and timeouts

export const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';

const previousHosts = () => [{ name: RETRY_PREVIOUS_HOSTS, typed_config: { '@type': MORE_TYPE_URL.previousHosts } }];

/**
 * Istio's retry.ConvertPolicy: the default policy when unset, none when attempts is 0, else the default
 * with the user's fields. Integers in retryOn are status codes. With consistent hashing, retries stay on
 * the hashed host (no previous-hosts predicate) unless retryIgnorePreviousHosts says otherwise.
 */
export function retryPolicy(retries: HTTPRetry | undefined, hashed: boolean): EnvoyJson | undefined {
  const out: EnvoyJson = {
    retry_on: DEFAULT_RETRY_ON,
    num_retries: { value: 2 },
    retriable_status_codes: [503],
    host_selection_retry_max_attempts: 5,
  };
  if (!hashed) out.retry_host_predicate = previousHosts();
  if (!retries) return out;
  if (!(typeof retries.attempts === 'number' && retries.attempts > 0)) return undefined;
  out.num_retries = { value: Math.floor(retries.attempts) };
  if (retries.retryOn) {
    const parts = retries.retryOn.split(',').map((p) => p.trim()).filter(Boolean);
    const codes = parts.filter((p) => /^\d{3}$/.test(p)).map(Number);
    let on = parts.filter((p) => !/^\d{3}$/.test(p)).join(',');
    if (codes.length > 0 && !on.includes('retriable-status-codes')) on = on ? `${on},retriable-status-codes` : 'retriable-status-codes';
    out.retry_on = on;
    out.retriable_status_codes = codes;
  }
  const perTry = parseDuration(retries.perTryTimeout);
  if (perTry) out.per_try_timeout = perTry;
  if (typeof retries.retryIgnorePreviousHosts === 'boolean') {
    if (retries.retryIgnorePreviousHosts) out.retry_host_predicate = previousHosts();
    else delete out.retry_host_predicate;
  }
  if (retries.retryRemoteLocalities) {
    out.retry_priority = {
      name: RETRY_PREVIOUS_PRIORITIES,
      typed_config: { '@type': MORE_TYPE_URL.previousPriorities, update_frequency: 2 },
    };
  }
  const backoff = parseDuration(retries.backoff);
  if (backoff) out.retry_back_off = { base_interval: backoff };
  return out;
}

/**
 * Istio's setTimeout: the VirtualService timeout or 0 (disabled). Envoy also caps gRPC's own deadline
 * header with it; proxyless gRPC reads only max_stream_duration.
 */
function timeoutFields(timeout: string | undefined, proxyType: TranslateInput['proxy']['type']): EnvoyJson {
  const t: Duration = parseDuration(timeout) ?? { seconds: 0 };
  if (proxyType === 'grpc') return { timeout: t, max_stream_duration: { max_stream_duration: t } };
  return { timeout: t, max_grpc_timeout: t };
}

// ---------------------------------------------------------------- mirrors

type Fraction = ReturnType<typeof percentToFraction>;

/**
 * Istio's MirrorPercent: mirrorPercentage, else the deprecated integer mirrorPercent, else all requests;
 * an explicit 0 means no mirror at all.
 */
function mirrorFraction(percentage: { value: number } | undefined, integer?: number): Fraction | undefined {
  if (percentage) return percentage.value > 0 ? percentToFraction(percentage.value) : undefined;
  if (typeof integer === 'number') return integer > 0 ? integerPercentToFraction(integer) : undefined;
  return integerPercentToFraction(100);
}

function mirrorPolicies(ctx: RouteContext, http: HTTPRoute): EnvoyJson[] {
  const out: EnvoyJson[] = [];
  const push = (d: Destination, fraction: Fraction | undefined) => {
    if (!fraction) return;
    out.push({ cluster: resolveDestination(ctx, d).cluster, runtime_fraction: { default_value: fraction }, trace_sampled: { value: false } });
  };
  if (http.mirror?.host) push(http.mirror, mirrorFraction(http.mirrorPercentage, http.mirrorPercent));
  for (const m of http.mirrors ?? []) {
    if (m?.destination?.host) push(m.destination, mirrorFraction(m.percentage));
  }
  return out;
}

// ---------------------------------------------------------------- redirect / direct response

const REDIRECT_CODES: Record<number, string> = {
  301: 'MOVED_PERMANENTLY',
  302: 'FOUND',
  303: 'SEE_OTHER',
  307: 'TEMPORARY_REDIRECT',
  308: 'PERMANENT_REDIRECT',
};

/**
 * Istio's ApplyRedirect on a sidecar (plain HTTP) port `port`: derivePort FROM_REQUEST_PORT is that port
 * (routes are built per port), FROM_PROTOCOL_DEFAULT is no port; the scheme's default port (80 for http,
 * 443 for https) is left out of the Location. Validation admits only the codes Envoy can send.
 */
export function redirectAction(r: HTTPRedirect, port: number): EnvoyJson {
  let portRedirect: number | undefined;
  if (typeof r.port === 'number' && r.port > 0) portRedirect = r.port;
  else if (r.derivePort === 'FROM_REQUEST_PORT') portRedirect = port;
  const scheme = r.scheme || 'http';
  if ((portRedirect === 80 && scheme === 'http') || (portRedirect === 443 && scheme === 'https')) portRedirect = undefined;
  return compact({
    path_redirect: r.uri || undefined,
    host_redirect: r.authority || undefined,
    port_redirect: portRedirect,
    scheme_redirect: r.scheme || undefined,
    response_code: REDIRECT_CODES[r.redirectCode || 301] ?? 'MOVED_PERMANENTLY',
  });
}

export function directResponseAction(d: HTTPDirectResponse): EnvoyJson {
  const out: EnvoyJson = { status: d.status };
  if (typeof d.body?.string === 'string') out.body = { inline_string: d.body.string };
  else if (typeof d.body?.bytes === 'string') out.body = { inline_bytes: d.body.bytes };
  return out;
}

// ---------------------------------------------------------------- the route action

interface WeightedDestination {
  dest: ResolvedDestination;
  weight: number;
  headers: ReturnType<typeof translateHeaders>;
}

/**
 * Weights as given; a lone destination without a weight takes everything. Zero-weight destinations are
 * left out (Envoy would never pick them). If no weight is left, the split is even rather than broken.
 */
function weigh(ctx: RouteContext, route: HTTPRouteDestination[]): WeightedDestination[] {
  const valid = route.filter((r) => r?.destination?.host);
  const all = valid.map((r) => ({
    dest: resolveDestination(ctx, r.destination),
    weight: valid.length === 1 && r.weight === undefined ? 100 : Math.max(0, Math.floor(r.weight ?? 0)),
    headers: translateHeaders(r.headers),
  }));
  const weighted = all.filter((w) => w.weight > 0);
  return weighted.length > 0 ? weighted : all.map((w) => ({ ...w, weight: 1 }));
}

/**
 * Route fields (action, header edits) for an HTTPRoute's route/redirect/directResponse; undefined when it
 * has none of them (nothing to send the request to).
 */
export function actionFields(ctx: RouteContext, http: HTTPRoute): { fields: EnvoyJson; edits: HeaderEdits } | undefined {
  const routeHeaders = translateHeaders(http.headers);
  if (http.redirect) return { fields: { redirect: redirectAction(http.redirect, ctx.port) }, edits: routeHeaders.edits };
  if (http.directResponse && typeof http.directResponse.status === 'number') {
    return { fields: { direct_response: directResponseAction(http.directResponse) }, edits: routeHeaders.edits };
  }
  const dests = weigh(ctx, http.route ?? []);
  if (dests.length === 0) return undefined;

  const hash = dests.map((d) => consistentHashOf(ctx, d.dest)).find((h) => h !== undefined);
  const action: EnvoyJson = {};
  let edits = routeHeaders.edits;
  let authority = http.rewrite?.authority || routeHeaders.authority;
  if (dests.length === 1) {
    action.cluster = dests[0]!.dest.cluster;
    // Istio folds a lone destination's header edits into the route's.
    edits = mergeEdits(edits, dests[0]!.headers.edits);
    authority ||= dests[0]!.headers.authority;
  } else {
    action.weighted_clusters = {
      clusters: dests.map((d) => compact({ name: d.dest.cluster, weight: { value: d.weight }, ...d.headers.edits, host_rewrite_literal: d.headers.authority })),
    };
  }
  Object.assign(action, rewriteFields(http, authority), timeoutFields(http.timeout, ctx.input.proxy.type));
  // Istio keeps retries on the hashed host only for a lone destination (weighted splits retry elsewhere).
  const retry = retryPolicy(http.retries, hash !== undefined && dests.length === 1);
  if (retry) action.retry_policy = retry;
  const mirrors = mirrorPolicies(ctx, http);
  if (mirrors.length > 0) action.request_mirror_policies = mirrors;
  const policy = hash ? hashPolicy(hash) : undefined;
  if (policy) action.hash_policy = [policy];
  return { fields: { route: action }, edits };
}

function rewriteFields(http: HTTPRoute, authority: string | undefined): EnvoyJson {
  const out: EnvoyJson = {};
  const regex = http.rewrite?.uriRegexRewrite;
  if (regex && typeof regex.match === 'string') {
    out.regex_rewrite = { pattern: regexMatcher(regex.match), substitution: regex.rewrite ?? '' };
  } else if (http.rewrite?.uri) {
    out.prefix_rewrite = http.rewrite.uri;
  }
  if (authority) out.host_rewrite_literal = authority;
  return out;
}
