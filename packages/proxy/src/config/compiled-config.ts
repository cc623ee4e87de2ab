import type { EnvoyJson } from '@trellis/envoy-api';
import type { HttpFilter } from '../http/http-filter.js';
import type { RouteTable } from '../router/route-table.js';
import type { RawSnapshot } from './raw-snapshot.js';

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
  readonly address: SocketAddress;
  readonly hcm: HttpConnectionManagerConfig;
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
  /** `http_filters` as configured, including filters accepted but not yet run (their config is kept here). */
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
  /** Router filter's `suppress_envoy_headers`: no `x-envoy-upstream-service-time` / `x-envoy-original-path`. */
  readonly suppressEnvoyHeaders: boolean;
}

export interface HttpFilterConfig {
  readonly name: string;
  /** Fully qualified proto name of `typed_config`, e.g. envoy.extensions.filters.http.router.v3.Router. */
  readonly typeName: string;
  readonly config: EnvoyJson;
}

export type DiscoveryType = 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'EDS';
export type LbPolicy = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'RING_HASH' | 'MAGLEV';
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
  /** The cluster's lb-policy-specific config (`ring_hash_lb_config`, `least_request_lb_config`, ...), kept for the balancer. */
  readonly lbConfig: EnvoyJson | null;
  readonly connectTimeoutMs: number;
  readonly protocol: UpstreamProtocol;
  /** `common_lb_config.healthy_panic_threshold` in percent (Envoy default 50; 0 disables panic routing). */
  readonly healthyPanicThreshold: number;
  /** STATIC/EDS: the endpoints; STRICT_DNS/LOGICAL_DNS: the host names to resolve. Grouped by locality. */
  readonly localities: readonly LocalityEndpoints[];
  readonly dnsRefreshRateMs: number;
  readonly dnsLookupFamily: 'AUTO' | 'V4_ONLY' | 'V6_ONLY' | 'V4_PREFERRED' | 'ALL';
  /** Resources kept verbatim for the stages that will read them (outlier detection, circuit breakers). */
  readonly outlierDetection: EnvoyJson | null;
  readonly circuitBreakers: EnvoyJson | null;
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
