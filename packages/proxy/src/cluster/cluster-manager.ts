import type { ClusterConfig, EndpointConfig, Locality } from '../config/compiled-config.js';
import { poolSettingsScope, type PoolSettings } from '../upstream/pool-settings.js';
import { hostPort, type UpstreamPools } from '../upstream/upstream-pools.js';
import { Cluster } from './cluster.js';
import { ClusterStats } from './cluster-stats.js';
import { DnsResolver, type ResolvedEndpoint } from './dns-resolver.js';
import { Host, HostStats } from './host.js';
import { HostMonitor, OutlierDetector } from './outlier/outlier-detector.js';
import { ResourceManager } from './resource-manager.js';

/** Run-time state of a cluster name that outlives any one snapshot's Cluster object. */
interface ClusterState {
  readonly stats: ClusterStats;
  readonly resources: ResourceManager;
  detector: OutlierDetector | null;
}

/**
 * Keeps the run-time clusters in step with the compiled config. A cluster whose config (endpoints
 * included) is unchanged keeps its Cluster object, so balancer position and DNS state survive a swap.
 * Per cluster name, counters, circuit breakers and the outlier detector survive config changes; per
 * endpoint, host counters and outlier state (ejections) survive as long as the endpoint stays. Pools of
 * endpoints no cluster uses any more are closed.
 */
export class ClusterManager {
  private clusters = new Map<string, Cluster>();
  private readonly resolvers = new Map<Cluster, DnsResolver>();
  private readonly states = new Map<string, ClusterState>();
  private readonly stats = new Map<string, HostStats>();
  private readonly monitors = new Map<string, HostMonitor>();

  constructor(
    private readonly pools: UpstreamPools,
    private readonly log: (msg: string) => void,
  ) {}

  /** Builds the clusters for a new snapshot; the returned map is what the snapshot's requests use. */
  update(configs: ReadonlyMap<string, ClusterConfig>): ReadonlyMap<string, Cluster> {
    const next = new Map<string, Cluster>();
    for (const [name, config] of configs) {
      const existing = this.clusters.get(name);
      next.set(name, existing && existing.config.signature === config.signature ? existing : this.create(config));
    }
    for (const [name, cluster] of this.clusters) {
      if (next.get(name) !== cluster) this.retire(cluster);
    }
    for (const [name, state] of this.states) {
      if (next.has(name)) continue;
      state.detector?.close();
      this.states.delete(name);
    }
    this.clusters = next;
    for (const cluster of next.values()) this.trackOutliers(cluster);
    this.sweep();
    return next;
  }

  get current(): ReadonlyMap<string, Cluster> {
    return this.clusters;
  }

  close(): void {
    for (const r of this.resolvers.values()) r.stop();
    this.resolvers.clear();
    for (const s of this.states.values()) s.detector?.close();
  }

  private create(config: ClusterConfig): Cluster {
    // Endpoints that join a cluster that already existed start in slow start (when configured).
    const joining = this.states.has(config.name);
    const state = this.state(config);
    const poolSettings = this.poolSettings(config, state);
    const runtime = {
      stats: state.stats,
      resources: state.resources,
      makeHost: (ip: string, port: number) => this.host(config, poolSettings, ip, dynamicEndpoint(ip, port), NO_LOCALITY, 0, false),
      detector: state.detector,
    };
    if (config.discoveryType === 'STRICT_DNS' || config.discoveryType === 'LOGICAL_DNS') {
      const cluster = new Cluster(config, [], runtime);
      const resolver = new DnsResolver(config, (eps) => this.onResolved(cluster, poolSettings, eps), this.log);
      this.resolvers.set(cluster, resolver);
      resolver.start();
      return cluster;
    }
    const hosts: Host[] = [];
    for (const loc of config.localities) {
      for (const ep of loc.endpoints) hosts.push(this.host(config, poolSettings, ep.address, ep, loc.locality, loc.priority, joining));
    }
    return new Cluster(config, hosts, runtime);
  }

  /** The name's lasting state, brought up to this config (circuit breaker limits, outlier settings). */
  private state(config: ClusterConfig): ClusterState {
    const name = config.name;
    let state = this.states.get(name);
    if (!state) {
      state = { stats: new ClusterStats(), resources: new ResourceManager(config.circuitBreakers), detector: null };
      this.states.set(name, state);
    } else {
      state.resources.configure(config.circuitBreakers);
    }
    const od = config.outlierDetection;
    if (od && state.detector) state.detector.configure(od);
    else if (od) state.detector = new OutlierDetector(od, state.stats, () => this.clusters.get(name)?.refreshHealth());
    else if (state.detector) {
      state.detector.close();
      state.detector = null;
    }
    return state;
  }

  private poolSettings(config: ClusterConfig, state: ClusterState): PoolSettings {
    const cp = config.connectionPool;
    const perHost = cp.maxConnectionsPerHost;
    const cap = Math.min(config.circuitBreakers.maxConnections, perHost ?? Number.MAX_SAFE_INTEGER);
    return {
      connectTimeoutMs: config.connectTimeoutMs,
      // Envoy's limit is cluster-wide; per host it can't be more than that either.
      maxConnectionsPerHost: cap >= 0xffffffff ? null : cap,
      maxRequestsPerConnection: cp.maxRequestsPerConnection,
      idleTimeoutMs: cp.idleTimeoutMs,
      tcpKeepaliveTimeMs: cp.tcpKeepaliveTimeMs,
      tls: config.tls,
      resources: state.resources,
      stats: state.stats,
    };
  }

  private onResolved(cluster: Cluster, poolSettings: PoolSettings, resolved: ResolvedEndpoint[]): void {
    const config = cluster.config;
    const joining = cluster.hosts.allHosts.length > 0;
    const hosts = resolved.map((r) => {
      const loc = config.localities[r.localityIndex]!;
      return this.host(config, poolSettings, r.ip, r.endpoint, loc.locality, loc.priority, joining);
    });
    cluster.setHosts(hosts);
    if (this.clusters.get(config.name) === cluster) this.trackOutliers(cluster);
    this.sweep();
  }

  private host(
    config: ClusterConfig,
    poolSettings: PoolSettings,
    ip: string,
    ep: EndpointConfig,
    locality: Locality,
    priority: number,
    joining: boolean,
  ): Host {
    const key = `${config.name}|${ip}|${ep.port}`;
    let stats = this.stats.get(key);
    if (!stats) {
      this.stats.set(key, (stats = new HostStats()));
      if (joining) stats.slowStartSinceMs = performance.now();
    }
    let monitor: HostMonitor | null = null;
    if (config.outlierDetection && config.discoveryType !== 'ORIGINAL_DST') {
      monitor = this.monitors.get(key) ?? null;
      if (!monitor) this.monitors.set(key, (monitor = new HostMonitor(hostPort(ip, ep.port))));
    }
    const host = new Host(config.name, ip, ep.port, ep, locality, priority, config.connectTimeoutMs, stats, monitor, poolSettingsScope(config.name, poolSettings));
    this.pools.define(host.h1PoolKey, poolSettings);
    this.pools.define(host.h2PoolKey, poolSettings);
    return host;
  }

  /** Points the cluster's outlier detector at its current hosts' monitors. */
  private trackOutliers(cluster: Cluster): void {
    const detector = this.states.get(cluster.name)?.detector;
    if (!detector) return;
    const monitors: HostMonitor[] = [];
    for (const h of cluster.hosts.allHosts) if (h.outlier) monitors.push(h.outlier);
    detector.setHosts(monitors);
  }

  private retire(cluster: Cluster): void {
    const resolver = this.resolvers.get(cluster);
    if (resolver) {
      resolver.stop();
      this.resolvers.delete(cluster);
    }
  }

  /** Drops counters, outlier state and pools of endpoints no live cluster has. */
  private sweep(): void {
    const liveHosts = new Set<string>();
    const livePools = new Set<string>();
    for (const cluster of this.clusters.values()) {
      for (const hosts of [cluster.hosts.allHosts, cluster.dynamicHosts]) {
        for (const h of hosts) {
          liveHosts.add(`${cluster.name}|${h.ip}|${h.port}`);
          livePools.add(h.h1PoolKey);
          livePools.add(h.h2PoolKey);
        }
      }
    }
    for (const key of this.stats.keys()) if (!liveHosts.has(key)) this.stats.delete(key);
    for (const key of this.monitors.keys()) if (!liveHosts.has(key)) this.monitors.delete(key);
    this.pools.sweep(livePools);
  }
}

const NO_LOCALITY: Locality = { region: '', zone: '', subZone: '' };

/** The endpoint an ORIGINAL_DST cluster makes for a destination it saw. */
function dynamicEndpoint(ip: string, port: number): EndpointConfig {
  return { address: ip, port, hostname: '', weight: 1, health: 'HEALTHY', targetPort: null, metadata: {} };
}
