import type { EndpointConfig, HealthStatus, Locality } from '../config/compiled-config.js';
import { hostPort, poolKey } from '../upstream/upstream-pools.js';
import type { HostMonitor } from './outlier/outlier-detector.js';

/** Per-endpoint counters; kept across snapshots while the endpoint stays in its cluster. */
export class HostStats {
  /**
   * When the endpoint joined a cluster that already existed (performance.now()), for slow start; null for
   * the endpoints a cluster started with (Envoy doesn't slow-start those).
   */
  slowStartSinceMs: number | null = null;
  rqActive = 0;
  rqTotal = 0;
  rqSuccess = 0;
  rqError = 0;
  rqTimeout = 0;
}

/**
 * One upstream endpoint of one cluster, as a snapshot sees it (address, weight, health); its counters live
 * on in `stats`. Strings the hot path needs are built once here.
 */
export class Host {
  /** `ip:port`, as /clusters and access logs print it. */
  readonly address: string;
  readonly h1PoolKey: string;
  readonly h2PoolKey: string;
  /** The value of `x-trellis-inbound-port`, when the endpoint is an inbound sidecar. */
  readonly targetPortHeader: string | null;

  constructor(
    readonly clusterName: string,
    readonly ip: string,
    readonly port: number,
    readonly endpoint: EndpointConfig,
    readonly locality: Locality,
    readonly priority: number,
    readonly connectTimeoutMs: number,
    readonly stats: HostStats,
    /** Outlier detection state, when the cluster has `outlier_detection`; the router reports each attempt here. */
    readonly outlier: HostMonitor | null = null,
    /** Makes the pool keys per cluster (and per pool settings): each cluster has its own connections, as in Envoy. */
    poolScope = '',
  ) {
    this.address = hostPort(ip, port);
    this.h1PoolKey = poolKey('http1', ip, port, connectTimeoutMs, poolScope);
    this.h2PoolKey = poolKey('http2', ip, port, connectTimeoutMs, poolScope);
    this.targetPortHeader = endpoint.targetPort === null ? null : String(endpoint.targetPort);
  }

  get weight(): number {
    return this.endpoint.weight;
  }

  get health(): HealthStatus {
    return this.endpoint.health;
  }

  /**
   * Envoy routes to UNKNOWN and HEALTHY endpoints; DEGRADED only when nothing healthier is left. A host
   * ejected by outlier detection is neither (Envoy's FAILED_OUTLIER_CHECK flag).
   */
  get healthy(): boolean {
    return (this.endpoint.health === 'HEALTHY' || this.endpoint.health === 'UNKNOWN') && !this.ejected;
  }

  get degraded(): boolean {
    return this.endpoint.health === 'DEGRADED' && !this.ejected;
  }

  get ejected(): boolean {
    return this.outlier !== null && this.outlier.ejected;
  }
}
