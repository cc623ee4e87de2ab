import type { Host } from './host.js';
import type { LoadBalancer } from './load-balancer.js';
import type { PrioritySet } from './priority-set.js';

/** Envoy's RANDOM: a uniformly random host of the set to balance (host weights are not considered). */
export class RandomLoadBalancer implements LoadBalancer {
  private readonly hosts: readonly Host[];

  constructor(set: PrioritySet) {
    this.hosts = set.hostsToBalance;
  }

  chooseHost(): Host | null {
    const n = this.hosts.length;
    return n === 0 ? null : this.hosts[Math.floor(Math.random() * n)]!;
  }
}
