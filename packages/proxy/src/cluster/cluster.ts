import type { ClusterConfig } from '../config/compiled-config.js';
import type { Host } from './host.js';
import { createLoadBalancer, type LoadBalancer, type LoadBalancerContext } from './load-balancer.js';
import { PrioritySet } from './priority-set.js';

/**
 * A cluster at run time: its current host set and load balancer. Config is immutable; the host set is
 * replaced whole (DNS re-resolution; later, outlier ejection), never edited under a request.
 */
export class Cluster {
  private prioritySet: PrioritySet;
  private lb: LoadBalancer;

  constructor(
    readonly config: ClusterConfig,
    hosts: readonly Host[],
  ) {
    this.prioritySet = new PrioritySet(hosts, config.healthyPanicThreshold);
    this.lb = createLoadBalancer(this.prioritySet, config);
  }

  get name(): string {
    return this.config.name;
  }

  get hosts(): PrioritySet {
    return this.prioritySet;
  }

  chooseHost(ctx: LoadBalancerContext | null): Host | null {
    return this.lb.chooseHost(ctx);
  }

  /** Swaps in a new host set (and a balancer for it). */
  setHosts(hosts: readonly Host[]): void {
    this.prioritySet = new PrioritySet(hosts, this.config.healthyPanicThreshold);
    this.lb = createLoadBalancer(this.prioritySet, this.config);
  }
}
