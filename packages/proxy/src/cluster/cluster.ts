import type { ClusterConfig } from '../config/compiled-config.js';
import { ClusterStats } from './cluster-stats.js';
import type { Host } from './host.js';
import { createLoadBalancer, type LoadBalancer, type LoadBalancerContext } from './load-balancer.js';
import { OriginalDstLoadBalancer, type HostFactory } from './original-dst.js';
import type { OutlierDetector } from './outlier/outlier-detector.js';
import { PrioritySet } from './priority-set.js';
import { ResourceManager } from './resource-manager.js';

/** What a cluster shares with the clusters of the same name in earlier and later snapshots. */
export interface ClusterRuntime {
  readonly stats: ClusterStats;
  readonly resources: ResourceManager;
  /** Makes hosts for addresses the cluster discovers itself (ORIGINAL_DST). */
  readonly makeHost: HostFactory;
  /** The name's outlier detector, when the config has `outlier_detection`. */
  readonly detector: OutlierDetector | null;
}

function noHostFactory(): never {
  throw new Error('this cluster does not make hosts');
}

/**
 * A cluster at run time: its hosts, the set to balance over (rebuilt when DNS or outlier ejection changes
 * health, never edited under a request), its load balancer, circuit breakers and counters.
 */
export class Cluster {
  private hostList: readonly Host[];
  private prioritySet: PrioritySet;
  private lb: LoadBalancer;
  readonly stats: ClusterStats;
  readonly resources: ResourceManager;
  readonly outlierDetector: OutlierDetector | null;
  private readonly makeHost: HostFactory;

  constructor(
    readonly config: ClusterConfig,
    hosts: readonly Host[],
    runtime: ClusterRuntime = { stats: new ClusterStats(), resources: new ResourceManager(config.circuitBreakers), makeHost: noHostFactory, detector: null },
  ) {
    this.stats = runtime.stats;
    this.resources = runtime.resources;
    this.outlierDetector = runtime.detector;
    this.makeHost = runtime.makeHost;
    this.hostList = hosts;
    this.prioritySet = new PrioritySet(hosts, config.healthyPanicThreshold);
    this.lb = createLoadBalancer(this.prioritySet, config, this.makeHost);
  }

  get name(): string {
    return this.config.name;
  }

  get hosts(): PrioritySet {
    return this.prioritySet;
  }

  /** Hosts the cluster made for requests' destinations (ORIGINAL_DST); none for other clusters. */
  get dynamicHosts(): readonly Host[] {
    return this.lb instanceof OriginalDstLoadBalancer ? this.lb.dynamicHosts : [];
  }

  chooseHost(ctx: LoadBalancerContext | null): Host | null {
    if (this.prioritySet.panic) this.stats.lbHealthyPanic++;
    return this.lb.chooseHost(ctx);
  }

  /** Swaps in a new host set (and a balancer for it). */
  setHosts(hosts: readonly Host[]): void {
    this.hostList = hosts;
    this.rebuild();
  }

  /** Host health changed (an outlier ejection or its end): rebuild the set to balance over. */
  refreshHealth(): void {
    this.rebuild();
  }

  private rebuild(): void {
    this.prioritySet = new PrioritySet(this.hostList, this.config.healthyPanicThreshold);
    // An ORIGINAL_DST balancer has no host set to follow and keeps the hosts it made.
    if (!(this.lb instanceof OriginalDstLoadBalancer)) this.lb = createLoadBalancer(this.prioritySet, this.config, this.makeHost);
  }
}
