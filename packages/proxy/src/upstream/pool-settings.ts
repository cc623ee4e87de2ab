import { ClusterStats } from '../cluster/cluster-stats.js';
import { ResourceManager } from '../cluster/resource-manager.js';
import type { UpstreamTlsConfig } from '../config/compiled-config.js';

/**
 * How a cluster's pool to one endpoint behaves: Envoy's connection-pool options and the cluster's
 * circuit breakers and counters (shared by all of the cluster's pools, so limits are cluster-wide).
 */
export interface PoolSettings {
  readonly connectTimeoutMs: number;
  /** At most this many connections to the endpoint (max_connections, per_host_thresholds); null: no cap. */
  readonly maxConnectionsPerHost: number | null;
  /** Close a connection after this many requests; null: never. */
  readonly maxRequestsPerConnection: number | null;
  /** Close a connection idle this long (0: never); null: the pool's default. */
  readonly idleTimeoutMs: number | null;
  /** TCP keepalive idle time (0: the OS's); null: the pool's default. */
  readonly tcpKeepaliveTimeMs: number | null;
  /** TLS origination (the cluster's UpstreamTlsContext); null: plaintext. */
  readonly tls: UpstreamTlsConfig | null;
  readonly resources: ResourceManager;
  readonly stats: ClusterStats;
}

/** For a pool no cluster described (no limits, counters nobody reads). */
export function defaultPoolSettings(connectTimeoutMs: number): PoolSettings {
  const unlimited = Number.MAX_SAFE_INTEGER;
  return {
    connectTimeoutMs,
    maxConnectionsPerHost: null,
    maxRequestsPerConnection: null,
    idleTimeoutMs: null,
    tcpKeepaliveTimeMs: null,
    tls: null,
    resources: new ResourceManager({ maxConnections: unlimited, maxPendingRequests: unlimited, maxRequests: unlimited, maxRetries: unlimited, retryBudget: null }),
    stats: new ClusterStats(),
  };
}

/** The part of the settings fixed when a pool is made: pools are keyed by it, so a change makes new pools. */
export function poolSettingsScope(clusterName: string, s: Omit<PoolSettings, 'resources' | 'stats'>): string {
  return `${clusterName}|${s.maxConnectionsPerHost ?? ''}|${s.maxRequestsPerConnection ?? ''}|${s.idleTimeoutMs ?? ''}|${s.tcpKeepaliveTimeMs ?? ''}|${s.tls?.fingerprint ?? ''}`;
}
