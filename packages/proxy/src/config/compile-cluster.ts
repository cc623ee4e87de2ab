import { isIP } from 'node:net';
import type { EnvoyJson } from '@trellis/envoy-api';
import type {
  ClusterConfig,
  DiscoveryType,
  EndpointConfig,
  HealthStatus,
  LbPolicy,
  LocalityEndpoints,
  UpstreamProtocol,
} from './compiled-config.js';
import { compileTransportSocket } from './compile-upstream-tls.js';
import { compileCircuitBreakers, compileConnectionPool, compileLbConfig, compileOutlierDetection } from './compile-cluster-policy.js';
import {
  Where,
  durationMs,
  enumName,
  isObject,
  list,
  num,
  obj,
  rejectNonEmpty,
  str,
  structToPlain,
  wrappedNum,
} from './envoy-values.js';

/** Envoy's `connect_timeout` default. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_DNS_REFRESH_MS = 5_000;

const DISCOVERY_TYPES = ['STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS', 'ORIGINAL_DST'] as const;
const LB_POLICIES = [
  'ROUND_ROBIN',
  'LEAST_REQUEST',
  'RING_HASH',
  'RANDOM',
  'MAGLEV',
  'CLUSTER_PROVIDED',
  'LOAD_BALANCING_POLICY_CONFIG',
] as const;
/** Policies for clusters with their own endpoints (CLUSTER_PROVIDED is ORIGINAL_DST's). */
const SUPPORTED_LB: readonly string[] = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RING_HASH', 'RANDOM', 'MAGLEV'];
const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/**
 * Compiles a Cluster. EDS clusters take their endpoints from the ClusterLoadAssignment named by
 * `eds_cluster_config.service_name` (absent: no endpoints yet, every request is a 503 UH, as in Envoy).
 */
export function compileCluster(
  where: Where,
  c: EnvoyJson,
  assignments: ReadonlyMap<string, EnvoyJson>,
): Omit<ClusterConfig, 'signature'> {
  const name = str(where, c.name, 'name') ?? '';
  if (name === '') where.reject('name', 'a cluster name is required');
  rejectNonEmpty(where, c, '', {
    cluster_type: 'custom cluster types (e.g. aggregate clusters) are not supported',
    load_balancing_policy: 'load_balancing_policy extensions are not supported; use lb_policy',
    transport_socket_matches: 'transport socket matches are not supported; use transport_socket',
    lb_subset_config: 'subset load balancing is not supported',
    upstream_bind_config: 'upstream_bind_config is not supported',
    filters: 'upstream network filters are not supported',
    http_filters: 'upstream HTTP filters are not supported',
  });
  const type = enumName(where, c.type, 'type', DISCOVERY_TYPES, 'STATIC');
  const lbPolicy = lbPolicyOf(where, c, type);
  if (type === 'ORIGINAL_DST' && c.load_assignment !== undefined && c.load_assignment !== null) {
    where.reject('load_assignment', 'ORIGINAL_DST clusters must have no load assignment configured');
  }
  const edsServiceName = type === 'EDS' ? edsName(where, c, name) : null;
  const assignment = type === 'EDS' ? assignments.get(edsServiceName!) : obj(where, c.load_assignment, 'load_assignment');
  // A bad ClusterLoadAssignment is reported against the endpoint resource itself.
  const localities = !assignment
    ? []
    : type === 'EDS'
      ? compileLocalities(new Where('endpoint', edsServiceName!), assignment, '', type)
      : compileLocalities(where, assignment, 'load_assignment.', type);
  const common = obj(where, c.common_lb_config, 'common_lb_config');
  const panic = common ? obj(where, common.healthy_panic_threshold, 'common_lb_config.healthy_panic_threshold') : undefined;
  const breakers = compileCircuitBreakers(where, c.circuit_breakers);
  return {
    name,
    discoveryType: type,
    edsServiceName,
    lbPolicy,
    lbConfig: compileLbConfig(where, c, lbPolicy),
    connectTimeoutMs: durationMs(where, c.connect_timeout, 'connect_timeout') ?? DEFAULT_CONNECT_TIMEOUT_MS,
    protocol: upstreamProtocol(where, c),
    healthyPanicThreshold: panic ? (num(where, panic.value, 'common_lb_config.healthy_panic_threshold.value') ?? 0) : 50,
    localities,
    dnsRefreshRateMs: durationMs(where, c.dns_refresh_rate, 'dns_refresh_rate') || DEFAULT_DNS_REFRESH_MS,
    dnsLookupFamily: enumName(where, c.dns_lookup_family, 'dns_lookup_family', ['AUTO', 'V4_ONLY', 'V6_ONLY', 'V4_PREFERRED', 'ALL'], 'AUTO'),
    outlierDetection: compileOutlierDetection(where, c.outlier_detection),
    circuitBreakers: breakers.thresholds,
    connectionPool: compileConnectionPool(where, c, breakers.perHostMaxConnections),
    tls: compileTransportSocket(where, c.transport_socket),
    metadata: compileMetadata(where, c.metadata, 'metadata'),
  };
}

/**
 * `lb_policy`, checked against the discovery type as Envoy does: CLUSTER_PROVIDED belongs to ORIGINAL_DST
 * clusters (which pick the caller's destination themselves) and nothing else.
 */
function lbPolicyOf(where: Where, c: EnvoyJson, type: DiscoveryType): LbPolicy {
  const lbName = enumName(where, c.lb_policy, 'lb_policy', LB_POLICIES, 'ROUND_ROBIN');
  if (type === 'ORIGINAL_DST') {
    if (lbName !== 'CLUSTER_PROVIDED') {
      where.reject('lb_policy', `LB policy ${lbName} is not valid for Cluster type ORIGINAL_DST. Only 'CLUSTER_PROVIDED' is allowed with cluster type 'ORIGINAL_DST'`);
    }
    return 'CLUSTER_PROVIDED';
  }
  if (!SUPPORTED_LB.includes(lbName)) where.reject('lb_policy', `lb_policy ${lbName} is not supported`);
  return lbName as LbPolicy;
}

function edsName(where: Where, c: EnvoyJson, clusterName: string): string {
  const eds = obj(where, c.eds_cluster_config, 'eds_cluster_config');
  const service = eds ? str(where, eds.service_name, 'eds_cluster_config.service_name') : undefined;
  return service || clusterName;
}

/**
 * HTTP/2 upstreams (h2c with prior knowledge) come from the deprecated `http2_protocol_options` or from
 * HttpProtocolOptions' explicit http2 config; `use_downstream_protocol_config` (or the deprecated
 * `protocol_selection: USE_DOWNSTREAM_PROTOCOL`) follows the downstream. ALPN (`auto_config`) over plaintext is
 * HTTP/1.1.
 */
function upstreamProtocol(where: Where, c: EnvoyJson): UpstreamProtocol {
  const exts = obj(where, c.typed_extension_protocol_options, 'typed_extension_protocol_options');
  const opts = exts ? obj(where, exts[HTTP_PROTOCOL_OPTIONS], `typed_extension_protocol_options[${HTTP_PROTOCOL_OPTIONS}]`) : undefined;
  if (opts) {
    const f = `typed_extension_protocol_options[${HTTP_PROTOCOL_OPTIONS}]`;
    if (isObject(opts.use_downstream_protocol_config)) return 'downstream';
    const explicit = obj(where, opts.explicit_http_config, `${f}.explicit_http_config`);
    if (explicit) {
      if (explicit.http3_protocol_options !== undefined) where.reject(`${f}.explicit_http_config.http3_protocol_options`, 'HTTP/3 upstreams are not supported');
      return explicit.http2_protocol_options !== undefined ? 'http2' : 'http1';
    }
    return 'http1';
  }
  const selection = enumName(where, c.protocol_selection, 'protocol_selection', ['USE_CONFIGURED_PROTOCOL', 'USE_DOWNSTREAM_PROTOCOL'], 'USE_CONFIGURED_PROTOCOL');
  if (selection === 'USE_DOWNSTREAM_PROTOCOL') return 'downstream';
  return c.http2_protocol_options !== undefined && c.http2_protocol_options !== null ? 'http2' : 'http1';
}

const HEALTH: readonly HealthStatus[] = ['UNKNOWN', 'HEALTHY', 'UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED'];

/** `prefix` is '' for an EDS resource and 'load_assignment.' inside a cluster. */
function compileLocalities(where: Where, cla: EnvoyJson, prefix: string, type: DiscoveryType): LocalityEndpoints[] {
  const policy = obj(where, cla.policy, `${prefix}policy`);
  if (policy && list(where, policy.drop_overloads, `${prefix}policy.drop_overloads`).length > 0) {
    where.reject(`${prefix}policy.drop_overloads`, 'drop overloads are not supported');
  }
  return list(where, cla.endpoints, `${prefix}endpoints`).map((v, i) => {
    const f = `${prefix}endpoints[${i}]`;
    const le = obj(where, v, f)!;
    const loc = obj(where, le.locality, `${f}.locality`);
    return {
      locality: {
        region: (loc && str(where, loc.region, `${f}.locality.region`)) || '',
        zone: (loc && str(where, loc.zone, `${f}.locality.zone`)) || '',
        subZone: (loc && str(where, loc.sub_zone, `${f}.locality.sub_zone`)) || '',
      },
      priority: num(where, le.priority, `${f}.priority`) ?? 0,
      loadBalancingWeight: wrappedNum(where, le.load_balancing_weight, `${f}.load_balancing_weight`) ?? null,
      endpoints: list(where, le.lb_endpoints, `${f}.lb_endpoints`).map((e, j) => compileEndpoint(where, e, `${f}.lb_endpoints[${j}]`, type)),
    };
  });
}

function compileEndpoint(where: Where, v: unknown, field: string, type: DiscoveryType): EndpointConfig {
  const lbe = obj(where, v, field)!;
  if (lbe.endpoint_name !== undefined) where.reject(`${field}.endpoint_name`, 'named endpoints are not supported');
  const ep = obj(where, lbe.endpoint, `${field}.endpoint`) ?? where.reject(`${field}.endpoint`, 'an endpoint is required');
  const addr = obj(where, ep.address, `${field}.endpoint.address`) ?? where.reject(`${field}.endpoint.address`, 'an address is required');
  if (addr.socket_address === undefined) {
    where.reject(`${field}.endpoint.address`, 'only socket addresses are supported (no pipes or internal addresses)');
  }
  const sa = obj(where, addr.socket_address, `${field}.endpoint.address.socket_address`)!;
  const f = `${field}.endpoint.address.socket_address`;
  if (sa.protocol !== undefined && sa.protocol !== 'TCP') where.reject(`${f}.protocol`, `${String(sa.protocol)} is not supported (TCP only)`);
  if (sa.named_port !== undefined || sa.resolver_name !== undefined) where.reject(f, 'named ports and custom resolvers are not supported');
  const address = str(where, sa.address, `${f}.address`) ?? '';
  const dns = type === 'STRICT_DNS' || type === 'LOGICAL_DNS';
  if (!dns && isIP(address) === 0) where.reject(`${f}.address`, `${JSON.stringify(address)} is not an IP address (${type} endpoints need one)`);
  if (dns && address === '') where.reject(`${f}.address`, 'a host name is required');
  const port = num(where, sa.port_value, `${f}.port_value`) ?? 0;
  if (!Number.isInteger(port) || port < 1 || port > 65535) where.reject(`${f}.port_value`, `invalid port ${port}`);
  const weight = wrappedNum(where, lbe.load_balancing_weight, `${field}.load_balancing_weight`) ?? 1;
  if (!Number.isInteger(weight) || weight < 1) where.reject(`${field}.load_balancing_weight`, `invalid weight ${weight} (must be >= 1)`);
  const metadata = compileMetadata(where, lbe.metadata, `${field}.metadata`);
  return {
    address,
    port,
    hostname: str(where, ep.hostname, `${field}.endpoint.hostname`) || (dns ? address : ''),
    weight,
    health: enumName(where, lbe.health_status, `${field}.health_status`, HEALTH, 'UNKNOWN'),
    targetPort: targetPort(where, metadata, `${field}.metadata.filter_metadata.trellis.target_port`),
    metadata,
  };
}

function compileMetadata(where: Where, v: unknown, field: string): Record<string, Record<string, unknown>> {
  const md = obj(where, v, field);
  const fm = md ? obj(where, md.filter_metadata, `${field}.filter_metadata`) : undefined;
  const out: Record<string, Record<string, unknown>> = {};
  if (fm) for (const [ns, s] of Object.entries(fm)) out[ns] = structToPlain(s);
  return out;
}

function targetPort(where: Where, md: Record<string, Record<string, unknown>>, field: string): number | null {
  const v = md.trellis?.target_port;
  if (v === undefined || v === null) return null;
  const port = typeof v === 'string' ? Number(v) : v;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    where.reject(field, `invalid port ${JSON.stringify(v)}`);
  }
  return port;
}
