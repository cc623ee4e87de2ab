import type { EnvoyJson } from '@trellis/envoy-api';
import type { CircuitBreakerThresholds } from '../cluster/resource-manager.js';
import type { SlowStartConfig } from '../cluster/slow-start.js';
import type { HttpFilter } from '../http/http-filter.js';
import type { StringMatch } from './compile-matchers.js';
import type { HcmTracingConfig } from './compile-tracing.js';
import type { AccessLogConfig } from './compile-access-log.js';
import type { RouteTable } from '../router/route-table.js';
import type { RawSnapshot } from './raw-snapshot.js';
import type { ListenerTlsConfig } from './compile-downstream-tls.js';

/**
 * Everything the data path runs, compiled once from a RawSnapshot and never mutated: a config change builds
 * a new one and swaps it in, so a request sees one consistent config from start to end.
 */
export interface CompiledConfig {
  readonly raw: RawSnapshot;
  readonly listeners: ReadonlyMap<string, ListenerConfig>;
  /** RDS route configurations by name. */
  readonly routeConfigs: ReadonlyMap<string, RouteTable>;
  readonly clusters: ReadonlyMap<string, ClusterConfig>;
}

export interface SocketAddress {
  readonly address: string;
  readonly port: number;
}

export interface ListenerConfig {
  readonly name: string;
  /** `traffic_direction`: INBOUND listeners start SERVER spans, the others CLIENT spans. */
  readonly trafficDirection: 'UNSPECIFIED' | 'INBOUND' | 'OUTBOUND';
  readonly address: SocketAddress;
  /** The connection manager of the (first) filter chain. */
  readonly hcm: HttpConnectionManagerConfig;
  /** TLS-terminating filter chains picked by SNI (a gateway's HTTPS port); null for plaintext listeners. */
  readonly tls: ListenerTlsConfig | null;
}

/** Which codecs a listener speaks: AUTO sniffs the HTTP/2 connection preface. */
export type CodecType = 'AUTO' | 'HTTP1' | 'HTTP2';
export type ServerHeaderTransformation = 'OVERWRITE' | 'APPEND_IF_ABSENT' | 'PASS_THROUGH';

export interface HttpConnectionManagerConfig {
  readonly statPrefix: string;
  readonly codecType: CodecType;
  /** RDS name; null when the routes are inline. */
  readonly routeConfigName: string | null;
  readonly inlineRoutes: RouteTable | null;
  /** `http_filters` as configured (their raw configs, as accepted). */
  readonly httpFilters: readonly HttpFilterConfig[];
  /** The filters a request passes, in order; the router is last. */
  readonly filterChain: readonly HttpFilter[];
  /** Upgrade types (lower-case) the HCM allows, e.g. `websocket`. */
  readonly upgradeTypes: ReadonlySet<string>;
  readonly serverName: string;
  readonly serverHeaderTransformation: ServerHeaderTransformation;
  readonly skipXffAppend: boolean;
  readonly generateRequestId: boolean;
  readonly normalizePath: boolean;
  readonly mergeSlashes: boolean;
  readonly stripAnyHostPort: boolean;
  /** The connection manager sits behind TLS the listener terminated: `:scheme` is https. */
  readonly downstreamTls: boolean;
  /** Router filter's `suppress_envoy_headers`: no `x-envoy-upstream-service-time` / `x-envoy-original-path`. */
  readonly suppressEnvoyHeaders: boolean;
  /** `access_log`: where this HCM's requests are logged (besides the sidecar's --access-log). */
  readonly accessLogs: readonly AccessLogConfig[];
  /** The HCM's `tracing` block; null when unset (the sidecar's --trace-sampling then applies). */
  readonly tracing: HcmTracingConfig | null;
}

export interface HttpFilterConfig {
  readonly name: string;
  /** Fully qualified proto name of `typed_config`, e.g. envoy.extensions.filters.http.router.v3.Router. */
  readonly typeName: string;
  readonly config: EnvoyJson;
}

export type DiscoveryType = 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'EDS' | 'ORIGINAL_DST';
/** CLUSTER_PROVIDED: the cluster picks the host itself (ORIGINAL_DST clusters, Istio's PASSTHROUGH). */
export type LbPolicy = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'RING_HASH' | 'MAGLEV' | 'CLUSTER_PROVIDED';
/** `http1`, `http2` (h2c with prior knowledge), or the downstream's protocol (`use_downstream_protocol_config`). */
export type UpstreamProtocol = 'http1' | 'http2' | 'downstream';
export type HealthStatus = 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY' | 'DRAINING' | 'TIMEOUT' | 'DEGRADED';

export interface ClusterConfig {
  readonly name: string;
  /** Changes whenever the cluster or its endpoints change: an unchanged cluster keeps its runtime state. */
  readonly signature: string;
  readonly discoveryType: DiscoveryType;
  /** EDS: the ClusterLoadAssignment's name (`eds_cluster_config.service_name`, else the cluster's name). */
  readonly edsServiceName: string | null;
  readonly lbPolicy: LbPolicy;
  /** The balancer's settings (`least_request_lb_config`, `ring_hash_lb_config`, `maglev_lb_config`, ...). */
  readonly lbConfig: LbConfig;
  readonly connectTimeoutMs: number;
  readonly protocol: UpstreamProtocol;
  /** `common_lb_config.healthy_panic_threshold` in percent (Envoy default 50; 0 disables panic routing). */
  readonly healthyPanicThreshold: number;
  /** STATIC/EDS: the endpoints; STRICT_DNS/LOGICAL_DNS: the host names to resolve. Grouped by locality. */
  readonly localities: readonly LocalityEndpoints[];
  readonly dnsRefreshRateMs: number;
  readonly dnsLookupFamily: 'AUTO' | 'V4_ONLY' | 'V6_ONLY' | 'V4_PREFERRED' | 'ALL';
  /** `outlier_detection`; null: no passive health checking. */
  readonly outlierDetection: OutlierDetectionConfig | null;
  /** `circuit_breakers.thresholds` (DEFAULT priority), Envoy's defaults when absent. */
  readonly circuitBreakers: CircuitBreakerThresholds;
  /** Upstream connection settings (HttpProtocolOptions' common options, TCP keepalive). */
  readonly connectionPool: ConnectionPoolConfig;
  /** `transport_socket` with an UpstreamTlsContext: TLS origination; null: plaintext. */
  readonly tls: UpstreamTlsConfig | null;
  /** `metadata.filter_metadata` as plain JSON (Istio's `istio.services` names the cluster's services for telemetry). */
  readonly metadata: Readonly<Record<string, Record<string, unknown>>>;
}

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/**
 * An UpstreamTlsContext (Istio's DestinationRule `tls.mode: SIMPLE`), compiled. Connections to every
 * endpoint of the cluster are TLS. The server certificate is checked only as `validation` says: without a
 * validation_context nothing is verified (Envoy's rule, and so Istio's SIMPLE without caCertificates: any
 * certificate, any name is accepted).
 */
export interface UpstreamTlsConfig {
  /** `sni`; null: no SNI is sent (Envoy sends none unless configured). */
  readonly sni: string | null;
  /**
   * `common_tls_context.alpn_protocols` as configured. What a connection offers follows its pool's
   * protocol instead: `h2` for HTTP/2 pools, `http/1.1` for HTTP/1 pools (the one protocol each can speak;
   * Istio writes `h2` for HTTP/2 clusters only, so the two agree).
   */
  readonly alpnProtocols: readonly string[];
  /** `tls_params` (Envoy's client defaults: TLS 1.2 to TLS 1.2). */
  readonly minVersion: TlsVersion;
  readonly maxVersion: TlsVersion;
  /** null: the server certificate is not verified at all. */
  readonly validation: {
    /** PEM bundle from `trusted_ca` (read when compiled); null: Node's bundled roots (`system_root_certs`). */
    readonly trustedCa: string | null;
    /** The certificate must have a SAN matching one of these (none: any). */
    readonly subjectAltNames: readonly SanMatcher[];
    /** `verify_certificate_hash`: SHA-256 of the certificate, lower-case hex without colons. */
    readonly certificateHashes: readonly string[];
    /** `verify_certificate_spki`: base64 SHA-256 of the certificate's SubjectPublicKeyInfo. */
    readonly spkiHashes: readonly string[];
  } | null;
  /** `tls_certificates[0]`: a client certificate (PEM), presented when the server asks for one. */
  readonly clientCertificate: { readonly certificateChain: string; readonly privateKey: string; readonly password: string | null } | null;
  /** Identity of these settings (pools are keyed by it). */
  readonly fingerprint: string;
}

/** One SAN matcher: a typed one (`match_typed_subject_alt_names`) or, with type null, one for any SAN type. */
export interface SanMatcher {
  readonly type: 'DNS' | 'URI' | 'EMAIL' | 'IP_ADDRESS' | null;
  readonly match: StringMatch;
  /** For DNS SANs and an exact, case-sensitive matcher: the name, so a wildcard SAN (`*.example.com`) matches it as Envoy does. */
  readonly exactDns: string | null;
}

/** Per-policy balancer settings, with Envoy's defaults filled in. */
export type LbConfig =
  | { readonly kind: 'round_robin'; readonly slowStart: SlowStartConfig | null }
  | { readonly kind: 'random' }
  | {
      readonly kind: 'least_request';
      readonly slowStart: SlowStartConfig | null;
      /** Hosts sampled per pick (power of two choices: 2). */
      readonly choiceCount: number;
      /** Weighted picks: effective weight = weight / (active requests + 1) ^ bias. */
      readonly activeRequestBias: number;
      /** `enable_full_scan`: compare every host instead of sampling. */
      readonly fullScan: boolean;
    }
  | {
      readonly kind: 'ring_hash';
      readonly minimumRingSize: number;
      readonly maximumRingSize: number;
      /** `common_lb_config.consistent_hashing_lb_config.use_hostname_for_hashing`. */
      readonly useHostnameForHashing: boolean;
    }
  | { readonly kind: 'maglev'; readonly tableSize: number; readonly useHostnameForHashing: boolean }
  | {
      readonly kind: 'original_dst';
      /** `original_dst_lb_config.use_http_header`: the header naming the destination; null when not used. */
      readonly httpHeaderName: string | null;
      /** `original_dst_lb_config.upstream_port_override`. */
      readonly portOverride: number | null;
      /** `cleanup_interval`: hosts unused this long are forgotten. */
      readonly cleanupIntervalMs: number;
    };

/** `outlier_detection` with Envoy's defaults filled in; durations in ms, enforcing_* and percents 0-100. */
export interface OutlierDetectionConfig {
  /** 0 disables (Envoy's `==` test never matches). */
  readonly consecutive5xx: number;
  readonly consecutiveGatewayFailure: number;
  readonly consecutiveLocalOriginFailure: number;
  readonly enforcingConsecutive5xx: number;
  readonly enforcingConsecutiveGatewayFailure: number;
  readonly enforcingConsecutiveLocalOriginFailure: number;
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionTimeMs: number;
  readonly maxEjectionTimeJitterMs: number;
  readonly maxEjectionPercent: number;
  readonly alwaysEjectOneHost: boolean;
  /** Connect failures, resets and timeouts counted apart from HTTP statuses. */
  readonly splitExternalLocalOriginErrors: boolean;
  readonly successRateMinimumHosts: number;
  readonly successRateRequestVolume: number;
  /** Divided by 1000: 1900 means mean - 1.9 stdev. */
  readonly successRateStdevFactor: number;
  readonly enforcingSuccessRate: number;
  readonly enforcingLocalOriginSuccessRate: number;
  readonly failurePercentageThreshold: number;
  readonly failurePercentageMinimumHosts: number;
  readonly failurePercentageRequestVolume: number;
  readonly enforcingFailurePercentage: number;
  readonly enforcingFailurePercentageLocalOrigin: number;
}

export interface ConnectionPoolConfig {
  /** `common_http_protocol_options.idle_timeout`: close a connection idle this long; null: the pool's default. */
  readonly idleTimeoutMs: number | null;
  /** `common_http_protocol_options.max_requests_per_connection`; null: unlimited. */
  readonly maxRequestsPerConnection: number | null;
  /** `circuit_breakers.per_host_thresholds[].max_connections`; null: only the cluster-wide limit. */
  readonly maxConnectionsPerHost: number | null;
  /**
   * `upstream_connection_options.tcp_keepalive`: keepalive on, with `keepalive_time` in ms (0: the OS's
   * idle time); null: the pool's default. Node can't set keepalive_probes / keepalive_interval: the OS
   * defaults apply to those.
   */
  readonly tcpKeepaliveTimeMs: number | null;
}

export interface Locality {
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
}

export interface LocalityEndpoints {
  readonly locality: Locality;
  readonly priority: number;
  readonly loadBalancingWeight: number | null;
  readonly endpoints: readonly EndpointConfig[];
}

export interface EndpointConfig {
  /** An IP address (STATIC/EDS) or a host name to resolve (DNS clusters). */
  readonly address: string;
  readonly port: number;
  /** `endpoint.hostname` (used by auto_host_rewrite); for DNS clusters the name resolved. */
  readonly hostname: string;
  readonly weight: number;
  readonly health: HealthStatus;
  /** `metadata.filter_metadata.trellis.target_port`: the app port behind an inbound sidecar. */
  readonly targetPort: number | null;
  readonly metadata: Readonly<Record<string, Record<string, unknown>>>;
}
