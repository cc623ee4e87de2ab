import type { EnvoyJson } from '@trellis/envoy-api';
import type { HeaderMutations } from '../router/header-mutations.js';
import type {
  ClusterSpecifier,
  DirectResponseAction,
  ForwardAction,
  MirrorPolicy,
  PathRewrite,
  RedirectAction,
  RetryPolicy,
  RouteAction,
  RouteEntry,
  RouteFilterConfig,
  WeightedCluster,
} from '../router/route.js';
import { RouteTable } from '../router/route-table.js';
import { VirtualHost } from '../router/virtual-host.js';
import { compilePerFilterConfigs, mergeFilterConfigs } from './compile-filter-configs.js';
import { compileHashPolicy } from './compile-hash-policy.js';
import { compileHeaderMutations } from './compile-headers.js';
import { compileRouteMatch } from './compile-matchers.js';
import { compileMirrorPolicies } from './compile-mirror.js';
import { compileRetryPolicy } from './compile-retry.js';
import { compileSafeRegexSearch } from './safe-regex.js';
import {
  Where,
  bool,
  durationMs,
  enumName,
  list,
  num,
  obj,
  oneofKey,
  rejectNonEmpty,
  str,
  wrappedBool,
  wrappedNum,
} from './envoy-values.js';

/** Envoy's route timeout when `timeout` is absent. */
export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;

/**
 * Request body kept for retries and shadows when neither the route nor its virtual host sets
 * `per_request_buffer_limit_bytes` (Envoy falls back to the listener's 1 MiB connection buffer; a sidecar
 * keeps less per request).
 */
export const DEFAULT_REQUEST_BUFFER_LIMIT = 64 * 1024;

/** Compiles a RouteConfiguration (RDS resource, or an HCM's inline `route_config`). */
export function compileRouteConfiguration(where: Where, rc: EnvoyJson, field = ''): RouteTable {
  const name = str(where, rc.name, `${field}name`) ?? '';
  rejectNonEmpty(where, rc, field, {
    vhds: 'VHDS (on-demand virtual hosts) is not supported',
    cluster_specifier_plugins: 'cluster specifier plugins are not supported',
  });
  const mostSpecificWins = bool(where, rc.most_specific_header_mutations_wins, `${field}most_specific_header_mutations_wins`) ?? false;
  const rcLevel = levelMutations(where, rc, field);
  const rcFilterConfig = compilePerFilterConfigs(where, rc.typed_per_filter_config, `${field}typed_per_filter_config`);
  const rcMirrors = compileMirrorPolicies(where, rc.request_mirror_policies, `${field}request_mirror_policies`);
  const seen = new Set<string>();
  const vhosts = list(where, rc.virtual_hosts, `${field}virtual_hosts`).map((v, i) => {
    const f = `${field}virtual_hosts[${i}]`;
    return compileVirtualHost(where, v, f, name, seen, rcLevel, rcFilterConfig, rcMirrors, mostSpecificWins);
  });
  const ignorePort = bool(where, rc.ignore_port_in_host_matching, `${field}ignore_port_in_host_matching`) ?? false;
  return new RouteTable(name, vhosts, ignorePort);
}

interface LevelMutations {
  readonly request: HeaderMutations | null;
  readonly response: HeaderMutations | null;
}

function levelMutations(where: Where, o: EnvoyJson, field: string): LevelMutations {
  return {
    request: compileHeaderMutations(where, o, 'request', field),
    response: compileHeaderMutations(where, o, 'response', field),
  };
}

function compileVirtualHost(
  where: Where,
  v: unknown,
  field: string,
  routeConfigName: string,
  seen: Set<string>,
  rcLevel: LevelMutations,
  rcFilterConfig: ReadonlyMap<string, RouteFilterConfig>,
  rcMirrors: readonly MirrorPolicy[],
  mostSpecificWins: boolean,
): VirtualHost {
  const vh = obj(where, v, field) ?? where.reject(field, 'a virtual host is required');
  const name = str(where, vh.name, `${field}.name`) ?? '';
  rejectNonEmpty(where, vh, `${field}.`, {
    matcher: 'matcher-tree routing is not supported',
    rate_limits: 'rate limiting is not supported',
    hedge_policy: 'request hedging is not supported',
    cors: 'the deprecated virtual host cors field is not supported; use typed_per_filter_config for envoy.filters.http.cors',
    retry_policy_typed_config: 'typed retry policies are not supported',
  });
  // ALL: plaintext requests are redirected to https. EXTERNAL_ONLY needs Envoy's internal-request notion.
  const requireTls = enumName(where, vh.require_tls, `${field}.require_tls`, ['NONE', 'ALL'], 'NONE') === 'ALL';
  const domains = list(where, vh.domains, `${field}.domains`).map((d, i) => {
    const f = `${field}.domains[${i}]`;
    const domain = str(where, d, f) ?? '';
    checkDomain(where, domain, f, routeConfigName, seen);
    return domain;
  });
  if (domains.length === 0) where.reject(`${field}.domains`, 'at least one domain is required');
  const vhLevel = levelMutations(where, vh, `${field}.`);
  const vhFilterConfig = mergeFilterConfigs(rcFilterConfig, compilePerFilterConfigs(where, vh.typed_per_filter_config, `${field}.typed_per_filter_config`));
  const vhMirrors = compileMirrorPolicies(where, vh.request_mirror_policies, `${field}.request_mirror_policies`);
  const outer: OuterLevels = {
    vhLevel,
    rcLevel,
    vhFilterConfig,
    forward: {
      retry: vh.retry_policy !== undefined ? compileRetryPolicy(where, vh.retry_policy, `${field}.retry_policy`) : null,
      mirrors: vhMirrors.length > 0 ? vhMirrors : rcMirrors,
      bufferLimit: wrappedNum(where, vh.per_request_buffer_limit_bytes, `${field}.per_request_buffer_limit_bytes`) ?? DEFAULT_REQUEST_BUFFER_LIMIT,
      attemptCountInRequest: bool(where, vh.include_request_attempt_count, `${field}.include_request_attempt_count`) ?? false,
      attemptCountInResponse: bool(where, vh.include_attempt_count_in_response, `${field}.include_attempt_count_in_response`) ?? false,
      timeoutRetryHeader: bool(where, vh.include_is_timeout_retry_header, `${field}.include_is_timeout_retry_header`) ?? false,
    },
    mostSpecificWins,
  };
  const routes = list(where, vh.routes, `${field}.routes`).map((r, i) => compileRoute(where, r, `${field}.routes[${i}]`, outer));
  return new VirtualHost(name, domains, routes, vhFilterConfig, requireTls);
}

/**
 * Envoy's domain rules: `*` alone is the default host (one per route configuration); a wildcard may only
 * lead or trail; every domain is unique across the route configuration (case-insensitively).
 */
function checkDomain(where: Where, domain: string, field: string, routeConfigName: string, seen: Set<string>): void {
  if (domain === '') where.reject(field, 'a domain must not be empty');
  const inner = domain.slice(1, -1);
  if (domain !== '*' && inner.includes('*')) where.reject(field, `${domain}: a wildcard may only lead or trail the domain`);
  if (domain.length > 1 && domain.startsWith('*') && domain.endsWith('*')) {
    where.reject(field, `${domain}: a domain may not have both a leading and a trailing wildcard`);
  }
  const key = domain.toLowerCase();
  if (seen.has(key)) {
    where.reject(
      field,
      domain === '*'
        ? `Only a single wildcard domain is permitted in route ${routeConfigName}`
        : `Only unique values for domains are permitted. Duplicate entry of domain ${key} in route ${routeConfigName}`,
    );
  }
  seen.add(key);
}

interface OuterLevels {
  readonly vhLevel: LevelMutations;
  readonly rcLevel: LevelMutations;
  readonly vhFilterConfig: ReadonlyMap<string, RouteFilterConfig>;
  readonly forward: VirtualHostForwarding;
  readonly mostSpecificWins: boolean;
}

/** What a virtual host (and its route configuration) gives the forwarding routes under it. */
interface VirtualHostForwarding {
  readonly retry: RetryPolicy | null;
  readonly mirrors: readonly MirrorPolicy[];
  readonly bufferLimit: number;
  readonly attemptCountInRequest: boolean;
  readonly attemptCountInResponse: boolean;
  readonly timeoutRetryHeader: boolean;
}

const ACTION_KINDS = ['route', 'redirect', 'direct_response', 'filter_action', 'non_forwarding_action'] as const;

function compileRoute(where: Where, v: unknown, field: string, outer: OuterLevels): RouteEntry {
  const r = obj(where, v, field) ?? where.reject(field, 'a route is required');
  const { matcher, matchedLength } = compileRouteMatch(where, r.match, `${field}.match`);
  const kind = oneofKey(r, ACTION_KINDS);
  let action: RouteAction;
  switch (kind) {
    case 'route':
      action = compileForward(where, r.route, `${field}.route`, matchedLength, {
        ...outer.forward,
        bufferLimit: wrappedNum(where, r.per_request_buffer_limit_bytes, `${field}.per_request_buffer_limit_bytes`) ?? outer.forward.bufferLimit,
      });
      break;
    case 'redirect':
      action = compileRedirect(where, r.redirect, `${field}.redirect`, matchedLength);
      break;
    case 'direct_response':
      action = compileDirectResponse(where, r.direct_response, `${field}.direct_response`);
      break;
    case undefined:
      return where.reject(field, 'one of route, redirect, direct_response is required');
    default:
      return where.reject(`${field}.${kind}`, `${kind} routes are not supported`);
  }
  const own = levelMutations(where, r, `${field}.`);
  const order = (levels: (HeaderMutations | null)[]) =>
    (outer.mostSpecificWins ? levels.reverse() : levels).filter((l): l is HeaderMutations => l !== null);
  return {
    name: str(where, r.name, `${field}.name`) ?? '',
    match: matcher,
    action,
    requestHeaderMutations: order([own.request, outer.vhLevel.request, outer.rcLevel.request]),
    responseHeaderMutations: order([own.response, outer.vhLevel.response, outer.rcLevel.response]),
    perFilterConfig: mergeFilterConfigs(outer.vhFilterConfig, compilePerFilterConfigs(where, r.typed_per_filter_config, `${field}.typed_per_filter_config`)),
  };
}

/** RouteAction's cluster_specifier oneof: how a forwarding route names its cluster. */
export const CLUSTER_SPECIFIERS = [
  'cluster',
  'cluster_header',
  'weighted_clusters',
  'cluster_specifier_plugin',
  'inline_cluster_specifier_plugin',
] as const;

function compileForward(
  where: Where,
  v: unknown,
  field: string,
  matchedLength: number | null,
  vh: VirtualHostForwarding,
): ForwardAction {
  const a = obj(where, v, field)!;
  rejectNonEmpty(where, a, `${field}.`, {
    metadata_match: 'subset load balancing (metadata_match) is not supported',
    rate_limits: 'rate limiting is not supported',
    cors: 'the deprecated route cors field is not supported; use typed_per_filter_config for envoy.filters.http.cors',
    hedge_policy: 'request hedging is not supported',
    internal_redirect_policy: 'internal redirects are not supported',
    path_rewrite_policy: 'path rewrite policies (URI templates) are not supported',
    host_rewrite_path_regex: 'host_rewrite_path_regex is not supported',
    host_rewrite_header: 'host_rewrite_header is not supported',
    retry_policy_typed_config: 'typed retry policies are not supported',
  });
  const spec = oneofKey(a, CLUSTER_SPECIFIERS);
  let clusters: ClusterSpecifier;
  switch (spec) {
    case 'cluster':
      clusters = { kind: 'cluster', name: str(where, a.cluster, `${field}.cluster`) ?? '' };
      if (clusters.name === '') where.reject(`${field}.cluster`, 'a cluster name is required');
      break;
    case 'cluster_header':
      clusters = { kind: 'header', header: (str(where, a.cluster_header, `${field}.cluster_header`) ?? '').toLowerCase() };
      break;
    case 'weighted_clusters':
      clusters = compileWeightedClusters(where, a.weighted_clusters, `${field}.weighted_clusters`);
      break;
    case undefined:
      return where.reject(field, 'one of cluster, cluster_header, weighted_clusters is required');
    default:
      return where.reject(`${field}.${spec}`, `${spec} is not supported`);
  }
  const timeoutMs = durationMs(where, a.timeout, `${field}.timeout`) ?? DEFAULT_ROUTE_TIMEOUT_MS;
  const msd = obj(where, a.max_stream_duration, `${field}.max_stream_duration`);
  const maxStreamDurationMs = msd ? (durationMs(where, msd.max_stream_duration, `${field}.max_stream_duration.max_stream_duration`) ?? 0) : 0;
  const grpcHeaderMax = msd ? durationMs(where, msd.grpc_timeout_header_max, `${field}.max_stream_duration.grpc_timeout_header_max`) : undefined;
  const grpcHeaderOffset = msd ? durationMs(where, msd.grpc_timeout_header_offset, `${field}.max_stream_duration.grpc_timeout_header_offset`) : undefined;
  const notFound = enumName(
    where,
    a.cluster_not_found_response_code,
    `${field}.cluster_not_found_response_code`,
    ['SERVICE_UNAVAILABLE', 'NOT_FOUND', 'INTERNAL_SERVER_ERROR'],
    'SERVICE_UNAVAILABLE',
  );
  return {
    kind: 'forward',
    clusters,
    clusterNotFoundStatus: { SERVICE_UNAVAILABLE: 503, NOT_FOUND: 404, INTERNAL_SERVER_ERROR: 500 }[notFound],
    timeoutMs,
    maxStreamDurationMs,
    maxGrpcTimeoutMs: durationMs(where, a.max_grpc_timeout, `${field}.max_grpc_timeout`) ?? null,
    grpcTimeoutOffsetMs: durationMs(where, a.grpc_timeout_offset, `${field}.grpc_timeout_offset`) ?? 0,
    grpcTimeoutHeaderMaxMs: grpcHeaderMax ?? null,
    grpcTimeoutHeaderOffsetMs: grpcHeaderOffset ?? 0,
    pathRewrite: compilePathRewrite(where, a, field, matchedLength),
    hostRewrite: str(where, a.host_rewrite_literal, `${field}.host_rewrite_literal`) || null,
    autoHostRewrite: wrappedBool(where, a.auto_host_rewrite, `${field}.auto_host_rewrite`) ?? false,
    retryPolicy: a.retry_policy !== undefined ? compileRetryPolicy(where, a.retry_policy, `${field}.retry_policy`) : vh.retry,
    mirrorPolicies: mirrorsOr(compileMirrorPolicies(where, a.request_mirror_policies, `${field}.request_mirror_policies`), vh.mirrors),
    bufferLimitBytes: vh.bufferLimit,
    attemptCountInRequest: vh.attemptCountInRequest,
    attemptCountInResponse: vh.attemptCountInResponse,
    timeoutRetryHeader: vh.timeoutRetryHeader,
    hashPolicy: compileHashPolicy(where, a.hash_policy, `${field}.hash_policy`),
    upgrades: compileRouteUpgrades(where, a.upgrade_configs, `${field}.upgrade_configs`),
  };
}

function compileWeightedClusters(where: Where, v: unknown, field: string): ClusterSpecifier {
  const w = obj(where, v, field)!;
  if (w.header_name !== undefined && w.header_name !== '') where.reject(`${field}.header_name`, 'weights from a header are not supported');
  const clusters = list(where, w.clusters, `${field}.clusters`).map((c, i) => compileWeightedCluster(where, c, `${field}.clusters[${i}]`));
  if (clusters.length === 0) where.reject(`${field}.clusters`, 'at least one cluster is required');
  const sum = clusters.reduce((s, c) => s + c.weight, 0);
  if (sum <= 0) where.reject(`${field}.clusters`, 'Sum of weights in the weighted_cluster must be greater than 0');
  const total = wrappedNum(where, w.total_weight, `${field}.total_weight`);
  if (total !== undefined && total !== 0 && total !== sum) {
    where.reject(`${field}.total_weight`, `Sum of weights in the weighted_cluster (${sum}) must equal total_weight (${total})`);
  }
  return { kind: 'weighted', clusters, totalWeight: sum, hasPerFilterConfig: clusters.some((c) => c.perFilterConfig.size > 0) };
}

function compileWeightedCluster(where: Where, v: unknown, field: string): WeightedCluster {
  const c = obj(where, v, field)!;
  const name = str(where, c.name, `${field}.name`) ?? '';
  if (name === '') where.reject(`${field}.name`, 'a cluster name is required');
  rejectNonEmpty(where, c, `${field}.`, {
    metadata_match: 'subset load balancing (metadata_match) is not supported',
    cluster_header: 'cluster_header in weighted clusters is not supported',
  });
  const weight = wrappedNum(where, c.weight, `${field}.weight`) ?? 0;
  if (!Number.isInteger(weight) || weight < 0) where.reject(`${field}.weight`, `invalid weight ${weight}`);
  return {
    name,
    weight,
    requestHeaderMutations: compileHeaderMutations(where, c, 'request', `${field}.`),
    responseHeaderMutations: compileHeaderMutations(where, c, 'response', `${field}.`),
    hostRewrite: str(where, c.host_rewrite_literal, `${field}.host_rewrite_literal`) || null,
    perFilterConfig: compilePerFilterConfigs(where, c.typed_per_filter_config, `${field}.typed_per_filter_config`),
  };
}

function compilePathRewrite(where: Where, a: EnvoyJson, field: string, matchedLength: number | null): PathRewrite | null {
  // An empty string is proto3's unset (Envoy tests `!prefix_rewrite().empty()`).
  const prefix = str(where, a.prefix_rewrite, `${field}.prefix_rewrite`) || undefined;
  const regex = obj(where, a.regex_rewrite, `${field}.regex_rewrite`);
  if (prefix !== undefined && regex) where.reject(field, 'only one of prefix_rewrite and regex_rewrite may be specified');
  // On a regex route (matchedLength null) Envoy swaps the whole path; Istio emits that for rewrite.uri.
  if (prefix !== undefined) return { kind: 'prefix', matchedLength, replacement: prefix };
  if (!regex) return null;
  const pm = obj(where, regex.pattern, `${field}.regex_rewrite.pattern`) ?? where.reject(`${field}.regex_rewrite.pattern`, 'required');
  const pattern = str(where, pm.regex, `${field}.regex_rewrite.pattern.regex`) ?? '';
  let re: RegExp;
  try {
    re = compileSafeRegexSearch(pattern);
  } catch (e) {
    return where.reject(`${field}.regex_rewrite.pattern.regex`, `invalid regex ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
  const substitution = (str(where, regex.substitution, `${field}.regex_rewrite.substitution`) ?? '')
    .replace(/\$/g, '$$$$')
    .replace(/\\(\d)/g, '$$$1');
  return { kind: 'regex', pattern: re, substitution };
}

function compileRouteUpgrades(where: Where, v: unknown, field: string): ReadonlyMap<string, boolean> {
  const out = new Map<string, boolean>();
  list(where, v, field).forEach((u, i) => {
    const o = obj(where, u, `${field}[${i}]`)!;
    const type = (str(where, o.upgrade_type, `${field}[${i}].upgrade_type`) ?? '').toLowerCase();
    if (o.connect_config !== undefined) where.reject(`${field}[${i}].connect_config`, 'CONNECT termination is not supported');
    out.set(type, wrappedBool(where, o.enabled, `${field}[${i}].enabled`) ?? true);
  });
  return out;
}

const REDIRECT_CODES = ['MOVED_PERMANENTLY', 'FOUND', 'SEE_OTHER', 'TEMPORARY_REDIRECT', 'PERMANENT_REDIRECT'] as const;
const REDIRECT_STATUS: Record<(typeof REDIRECT_CODES)[number], number> = {
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
};

function compileRedirect(where: Where, v: unknown, field: string, matchedLength: number | null): RedirectAction {
  const r = obj(where, v, field)!;
  const https = bool(where, r.https_redirect, `${field}.https_redirect`) ?? false;
  const scheme = https ? 'https' : (str(where, r.scheme_redirect, `${field}.scheme_redirect`)?.toLowerCase() ?? null);
  const port = num(where, r.port_redirect, `${field}.port_redirect`) ?? 0;
  const path = str(where, r.path_redirect, `${field}.path_redirect`) ?? null;
  const rewrite = compilePathRewrite(where, r, field, matchedLength);
  if (path !== null && rewrite) where.reject(field, 'only one of path_redirect, prefix_rewrite, regex_rewrite may be specified');
  const code = enumName(where, r.response_code, `${field}.response_code`, REDIRECT_CODES, 'MOVED_PERMANENTLY');
  return {
    kind: 'redirect',
    status: REDIRECT_STATUS[code],
    scheme,
    host: str(where, r.host_redirect, `${field}.host_redirect`) ?? null,
    port: port > 0 ? port : null,
    path,
    pathRewrite: rewrite,
    stripQuery: bool(where, r.strip_query, `${field}.strip_query`) ?? false,
  };
}

function compileDirectResponse(where: Where, v: unknown, field: string): DirectResponseAction {
  const d = obj(where, v, field)!;
  const status = num(where, d.status, `${field}.status`) ?? 0;
  if (!Number.isInteger(status) || status < 200 || status > 599) where.reject(`${field}.status`, `invalid status ${status} (must be 200-599)`);
  const body = obj(where, d.body, `${field}.body`);
  return { kind: 'direct', status, body: body ? dataSource(where, body, `${field}.body`) : null };
}

/** A config.core.v3.DataSource held in the config itself (files and environment variables are refused). */
function dataSource(where: Where, ds: EnvoyJson, field: string): Buffer {
  if (typeof ds.inline_string === 'string') return Buffer.from(ds.inline_string);
  if (typeof ds.inline_bytes === 'string') return Buffer.from(ds.inline_bytes, 'base64');
  if (ds.inline_bytes instanceof Uint8Array) return Buffer.from(ds.inline_bytes);
  const kind = oneofKey(ds, ['filename', 'environment_variable']);
  if (kind) return where.reject(`${field}.${kind}`, `${kind} data sources are not supported; inline the body`);
  return Buffer.alloc(0);
}

/** Envoy: the most specific non-empty list of mirror policies applies (they are never merged). */
function mirrorsOr(own: readonly MirrorPolicy[], outer: readonly MirrorPolicy[]): readonly MirrorPolicy[] {
  return own.length > 0 ? own : outer;
}
