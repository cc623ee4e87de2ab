import type { ClusterConfig } from '../config/compiled-config.js';
import type { UpstreamPools } from '../upstream/upstream-pools.js';
import { Cluster } from './cluster.js';
import { DnsResolver, type ResolvedEndpoint } from './dns-resolver.js';
import { Host, HostStats } from './host.js';

/**
 * Keeps the run-time clusters in step with the compiled config. A cluster whose config (endpoints
 * included) is unchanged keeps its Cluster object, so balancer position and DNS state survive a swap; host
 * counters survive as long as the endpoint stays. Pools of endpoints no cluster uses any more are closed.
 */
export class ClusterManager {
  private clusters = new Map<string, Cluster>();
  private readonly resolvers = new Map<Cluster, DnsResolver>();
  private readonly stats = new Map<string, HostStats>();

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
    this.clusters = next;
    this.sweep();
    return next;
  }

  get current(): ReadonlyMap<string, Cluster> {
    return this.clusters;
  }

  close(): void {
    for (const r of this.resolvers.values()) r.stop();
    this.resolvers.clear();
  }

  private create(config: ClusterConfig): Cluster {
    if (config.discoveryType === 'STRICT_DNS' || config.discoveryType === 'LOGICAL_DNS') {
      const cluster = new Cluster(config, []);
      const resolver = new DnsResolver(config, (eps) => this.onResolved(cluster, eps), this.log);
      this.resolvers.set(cluster, resolver);
      resolver.start();
      return cluster;
    }
    const hosts: Host[] = [];
    for (const loc of config.localities) {
      for (const ep of loc.endpoints) hosts.push(this.host(config, ep.address, ep, loc.locality, loc.priority));
    }
    return new Cluster(config, hosts);
  }

  private onResolved(cluster: Cluster, resolved: ResolvedEndpoint[]): void {
    const config = cluster.config;
    const hosts = resolved.map((r) => {
      const loc = config.localities[r.localityIndex]!;
      return this.host(config, r.ip, r.endpoint, loc.locality, loc.priority);
    });
    cluster.setHosts(hosts);
    this.sweep();
  }

  private host(config: ClusterConfig, ip: string, ep: ClusterConfig['localities'][number]['endpoints'][number], locality: Host['locality'], priority: number): Host {
    const key = `${config.name}|${ip}|${ep.port}`;
    let stats = this.stats.get(key);
    if (!stats) this.stats.set(key, (stats = new HostStats()));
    return new Host(config.name, ip, ep.port, ep, locality, priority, config.connectTimeoutMs, stats);
  }

  private retire(cluster: Cluster): void {
    const resolver = this.resolvers.get(cluster);
    if (resolver) {
      resolver.stop();
      this.resolvers.delete(cluster);
    }
  }

  /** Drops counters and pools of endpoints no live cluster has. */
  private sweep(): void {
    const liveStats = new Set<string>();
    const livePools = new Set<string>();
    for (const cluster of this.clusters.values()) {
      for (const h of cluster.hosts.allHosts) {
        liveStats.add(`${cluster.name}|${h.ip}|${h.port}`);
        livePools.add(h.h1PoolKey);
        livePools.add(h.h2PoolKey);
      }
    }
    for (const key of this.stats.keys()) if (!liveStats.has(key)) this.stats.delete(key);
    this.pools.sweep(livePools);
  }
}
