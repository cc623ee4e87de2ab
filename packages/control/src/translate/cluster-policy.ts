import { EXTENSION_TYPE_URL, type EnvoyJson } from '@trellis/envoy-api';
import type {
  ClientTLSSettings,
  ConnectionPoolSettings,
  ConsistentHashLB,
  LoadBalancerSettings,
  OutlierDetection,
  TrafficPolicy,
} from '../model/istio-types.js';
import { isHttp2Protocol, isHttpProtocol } from '../registry/protocol.js';
import type { Protocol } from '../registry/types.js';
import type { ProxyIdentity } from '../registry/proxy-identity.js';
import { HTTP_PROTOCOL_OPTIONS_KEY, MORE_TYPE_URL, TRANSPORT_SOCKET_TLS } from './names.js';
import { compact, parseDuration, type Duration } from './values.js';

/** Istio's defaults (DESIGN.md "Compatibility promises"). */
export const DEFAULT_CONNECT_TIMEOUT: Duration = { seconds: 10 };
export const DEFAULT_RING_SIZE = 1024;
export const DEFAULT_MAGLEV_TABLE_SIZE = 65537;
const MAX_UINT32 = 4294967295;

/** Fields of envoy.config.cluster.v3.Cluster that come from a traffic policy. */
export type ClusterFields = EnvoyJson;

// ---------------------------------------------------------------- load balancing

export interface LbChoice {
  fields: ClusterFields;
  /** PASSTHROUGH: connect to the address the caller asked for (ORIGINAL_DST cluster). */
  passthrough: boolean;
  consistentHash?: ConsistentHashLB;
}

/** gRPC's xDS client accepts only these; anything else makes it NACK the cluster. */
const GRPC_LB = new Set(['ROUND_ROBIN', 'RING_HASH']);

export function loadBalancing(lb: LoadBalancerSettings | undefined, proxyType: ProxyIdentity['type']): LbChoice {
  const choice = envoyLb(lb, proxyType);
  if (proxyType === 'grpc') {
    // gRPC has no slow start; MAGLEV is a consistent hash too: keep the stickiness on gRPC's one consistent-hash policy.
    if (choice.fields.lb_policy === 'MAGLEV') return { ...choice, fields: ringHash(DEFAULT_RING_SIZE) };
    if (!GRPC_LB.has(choice.fields.lb_policy as string)) return { ...choice, fields: { lb_policy: 'ROUND_ROBIN' } };
    return choice;
  }
  return withSlowStart(choice, lb);
}

/**
 * Istio's warmup: `warmup` (duration, aggression default 1, minimumPercent default 10), else the older
 * `warmupDurationSecs` (window only), as slow start on round robin and least request. Envoy requires a
 * runtime key on the aggression; Istio names one no runtime defines.
 */
function slowStartConfig(lb: LoadBalancerSettings | undefined): EnvoyJson | undefined {
  if (lb?.warmup) {
    const window = parseDuration(lb.warmup.duration);
    if (!window) return undefined;
    return {
      slow_start_window: window,
      aggression: { default_value: lb.warmup.aggression ?? 1, runtime_key: '(' },
      min_weight_percent: { value: lb.warmup.minimumPercent ?? 10 },
    };
  }
  const window = parseDuration(lb?.warmupDurationSecs);
  return window ? { slow_start_window: window } : undefined;
}

const SLOW_START_CONFIG_FIELD: Record<string, string> = { ROUND_ROBIN: 'round_robin_lb_config', LEAST_REQUEST: 'least_request_lb_config' };

function withSlowStart(choice: LbChoice, lb: LoadBalancerSettings | undefined): LbChoice {
  const field = SLOW_START_CONFIG_FIELD[choice.fields.lb_policy as string];
  const slowStart = field && !choice.consistentHash ? slowStartConfig(lb) : undefined;
  return slowStart ? { ...choice, fields: { ...choice.fields, [field!]: { slow_start_config: slowStart } } } : choice;
}

function ringHash(minimumRingSize: number): ClusterFields {
  return { lb_policy: 'RING_HASH', ring_hash_lb_config: { minimum_ring_size: { value: minimumRingSize }, hash_function: 'XX_HASH' } };
}

function envoyLb(lb: LoadBalancerSettings | undefined, proxyType: ProxyIdentity['type']): LbChoice {
  const hash = lb?.consistentHash;
  if (hash) {
    if (hash.maglev) {
      const size = positive(hash.maglev.tableSize) ?? DEFAULT_MAGLEV_TABLE_SIZE;
      return { fields: { lb_policy: 'MAGLEV', maglev_lb_config: { table_size: { value: size } } }, passthrough: false, consistentHash: hash };
    }
    const size = positive(hash.ringHash?.minimumRingSize) ?? positive(hash.minimumRingSize) ?? DEFAULT_RING_SIZE;
    return { fields: ringHash(size), passthrough: false, consistentHash: hash };
  }
  switch (lb?.simple) {
    case 'ROUND_ROBIN':
      return { fields: { lb_policy: 'ROUND_ROBIN' }, passthrough: false };
    case 'RANDOM':
      return { fields: { lb_policy: 'RANDOM' }, passthrough: false };
    case 'LEAST_CONN':
    case 'LEAST_REQUEST':
      return { fields: { lb_policy: 'LEAST_REQUEST' }, passthrough: false };
    case 'PASSTHROUGH':
      return { fields: { lb_policy: 'CLUSTER_PROVIDED' }, passthrough: true };
    default:
      // Istio's sidecar default is LEAST_REQUEST; gRPC's xDS client only knows ROUND_ROBIN.
      return { fields: { lb_policy: proxyType === 'grpc' ? 'ROUND_ROBIN' : 'LEAST_REQUEST' }, passthrough: false };
  }
}

const positive = (n: number | undefined) => (typeof n === 'number' && n > 0 ? Math.floor(n) : undefined);

// ---------------------------------------------------------------- outlier detection

/** Istio's applyOutlierDetection: success-rate ejection off, Istio's defaults written out explicitly. */
export function outlierDetection(od: OutlierDetection | undefined): ClusterFields {
  if (!od) return {};
  const out: EnvoyJson = { enforcing_success_rate: { value: 0 } };
  if (typeof od.consecutive5xxErrors === 'number') {
    out.consecutive_5xx = { value: od.consecutive5xxErrors };
    out.enforcing_consecutive_5xx = { value: od.consecutive5xxErrors > 0 ? 100 : 0 };
  } else if (typeof od.consecutiveErrors === 'number' && od.consecutiveErrors > 0) {
    // The deprecated field counted gateway errors only (istio/api#617).
    out.consecutive_5xx = { value: 5 };
    out.enforcing_consecutive_5xx = { value: 0 };
  } else {
    out.consecutive_5xx = { value: 5 };
    out.enforcing_consecutive_5xx = { value: 100 };
  }
  const gateway = od.consecutiveGatewayErrors ?? (od.consecutiveErrors && od.consecutiveErrors > 0 ? od.consecutiveErrors : undefined);
  if (typeof gateway === 'number') {
    out.consecutive_gateway_failure = { value: gateway };
    out.enforcing_consecutive_gateway_failure = { value: gateway > 0 ? 100 : 0 };
  }
  out.interval = parseDuration(od.interval) ?? { seconds: 10 };
  out.base_ejection_time = parseDuration(od.baseEjectionTime) ?? { seconds: 30 };
  out.max_ejection_percent = { value: positive(od.maxEjectionPercent) ?? 10 };
  // Istio's promise: maxEjectionPercent (default 10) never stops the first ejection. Envoy applies the
  // percentage to the share ejected after the ejection (1 of 3 hosts is 33% > 10%), so without this a
  // small cluster would never eject anything.
  out.always_eject_one_host = { value: true };
  if (od.splitExternalLocalOriginErrors) {
    out.split_external_local_origin_errors = true;
    if ((od.consecutiveLocalOriginFailures ?? 0) > 0) {
      out.consecutive_local_origin_failure = { value: od.consecutiveLocalOriginFailures };
      out.enforcing_consecutive_local_origin_failure = { value: 100 };
    }
    out.enforcing_local_origin_success_rate = { value: 0 };
  }
  // Istio always sets the panic threshold with outlier detection: minHealthPercent, or 0 (panic mode off).
  const minHealth = typeof od.minHealthPercent === 'number' && od.minHealthPercent >= 0 ? od.minHealthPercent : 0;
  return { outlier_detection: out, common_lb_config: { healthy_panic_threshold: { value: minHealth } } };
}

// ---------------------------------------------------------------- connection pool

/**
 * Istio's circuit-breaker thresholds: effectively unlimited unless the connection pool says otherwise; a
 * retryBudget (default 0.2 percent, at least 3 concurrent retries, as Istio writes it) bounds retries too.
 */
export function circuitBreakers(pool: ConnectionPoolSettings | undefined, retryBudget?: TrafficPolicy['retryBudget']): ClusterFields {
  const limit = (n: number | undefined) => ({ value: positive(n) ?? MAX_UINT32 });
  const threshold: EnvoyJson = {
    max_connections: limit(pool?.tcp?.maxConnections),
    max_pending_requests: limit(pool?.http?.http1MaxPendingRequests),
    max_requests: limit(pool?.http?.http2MaxRequests),
    max_retries: limit(pool?.http?.maxRetries),
    track_remaining: true,
  };
  if (retryBudget) {
    threshold.retry_budget = {
      budget_percent: { value: retryBudget.percent ?? 0.2 },
      min_retry_concurrency: { value: positive(retryBudget.minRetryConcurrency) ?? 3 },
    };
  }
  return { circuit_breakers: { thresholds: [threshold] } };
}

export function connectTimeout(pool: ConnectionPoolSettings | undefined): Duration {
  return parseDuration(pool?.tcp?.connectTimeout) ?? DEFAULT_CONNECT_TIMEOUT;
}

const seconds = (d: string | undefined) => {
  const parsed = parseDuration(d);
  return parsed ? { value: parsed.seconds } : undefined;
};

/** TCP keepalive on upstream connections (Istio's applyTCPKeepalive; Envoy counts in whole seconds). */
export function tcpKeepalive(pool: ConnectionPoolSettings | undefined): ClusterFields {
  const ka = pool?.tcp?.tcpKeepalive;
  if (!ka) return {};
  return {
    upstream_connection_options: {
      tcp_keepalive: compact({
        keepalive_probes: positive(ka.probes) ? { value: ka.probes } : undefined,
        keepalive_time: seconds(ka.time),
        keepalive_interval: seconds(ka.interval),
      }),
    },
  };
}

/**
 * Upstream HTTP options: HTTP/2 for gRPC and HTTP/2 ports (or when the pool asks to upgrade), the
 * client's protocol when asked to keep it, and per-connection limits. Nothing for non-HTTP ports, and
 * nothing at all when there is nothing to say (HTTP/1.1 is Envoy's default).
 */
export function httpProtocolOptions(protocol: Protocol, pool: ConnectionPoolSettings | undefined): ClusterFields {
  if (!isHttpProtocol(protocol)) return {};
  const http = pool?.http;
  const common = compact({
    // The TCP idle timeout stands in when HTTP names none (Istio's applyConnectionPool).
    idle_timeout: parseDuration(http?.idleTimeout) ?? parseDuration(pool?.tcp?.idleTimeout),
    max_requests_per_connection: positive(http?.maxRequestsPerConnection) ? { value: http!.maxRequestsPerConnection } : undefined,
    max_connection_duration: parseDuration(pool?.tcp?.maxConnectionDuration),
  });
  const h2Options = compact({
    max_concurrent_streams: positive(http?.maxConcurrentStreams) ? { value: http!.maxConcurrentStreams } : undefined,
  });
  const h2 = isHttp2Protocol(protocol) || http?.h2UpgradePolicy === 'UPGRADE';
  let upstream: EnvoyJson;
  if (http?.useClientProtocol) upstream = { use_downstream_protocol_config: { http_protocol_options: {}, http2_protocol_options: h2Options } };
  else if (h2) upstream = { explicit_http_config: { http2_protocol_options: h2Options } };
  else if (Object.keys(common).length > 0) upstream = { explicit_http_config: { http_protocol_options: {} } };
  else return {};
  const options: EnvoyJson = { '@type': EXTENSION_TYPE_URL.httpProtocolOptions, ...upstream };
  if (Object.keys(common).length > 0) options.common_http_protocol_options = common;
  return { typed_extension_protocol_options: { [HTTP_PROTOCOL_OPTIONS_KEY]: options } };
}

// ---------------------------------------------------------------- TLS

/**
 * TLS origination for `tls.mode: SIMPLE` (mutual modes come with mTLS support). SNI defaults to the
 * service host, as Istio does. `caCertificates` (a file on the proxy's host, or `system` for the
 * proxy's bundled roots) is what the server certificate is verified against, with `subjectAltNames` matched
 * exactly against its SANs. Without a CA the public roots are used, as current Istio does (since 1.20,
 * VERIFY_CERTIFICATE_AT_CLIENT); `insecureSkipVerify: true` turns verification off.
 * credentialName and caCrl are not honoured (model validation warns). gRPC clients get none: they only
 * accept certificate-provider TLS and would NACK the cluster.
 */
export function upstreamTls(tls: ClientTLSSettings | undefined, hostname: string, proxyType: ProxyIdentity['type']): ClusterFields {
  if (tls?.mode !== 'SIMPLE' || proxyType === 'grpc') return {};
  const sni = tls.sni || (hostname.includes('*') ? undefined : hostname);
  return {
    transport_socket: {
      name: TRANSPORT_SOCKET_TLS,
      typed_config: compact({ '@type': MORE_TYPE_URL.upstreamTlsContext, sni, common_tls_context: compact({ validation_context: validationContext(tls) }) }),
    },
  };
}

function validationContext(tls: ClientTLSSettings): EnvoyJson | undefined {
  if (tls.insecureSkipVerify || tls.credentialName) return undefined;
  const ca = tls.caCertificates || 'system';
  const sans = (tls.subjectAltNames ?? []).filter((s) => s !== '');
  return compact({
    ...(ca === 'system' ? { system_root_certs: {} } : { trusted_ca: { filename: ca } }),
    match_subject_alt_names: sans.length > 0 ? sans.map((exact) => ({ exact })) : undefined,
  });
}
