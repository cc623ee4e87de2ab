import type { Host } from './host.js';
import type { LoadBalancer } from './load-balancer.js';
import type { PrioritySet } from './priority-set.js';

/**
 * Envoy's ROUND_ROBIN: plain rotation when all weights are equal, weighted otherwise (smooth weighted
 * round robin, which spreads a host's turns evenly as Envoy's EDF scheduler does). Starts at a random
 * position so that many proxies don't all hit the same first host.
 */
export class RoundRobinLoadBalancer implements LoadBalancer {
  private readonly hosts: readonly Host[];
  private readonly weighted: boolean;
  private next: number;
  private readonly current: number[];
  private readonly totalWeight: number;

  constructor(set: PrioritySet) {
    this.hosts = set.hostsToBalance;
    const first = this.hosts[0]?.weight ?? 1;
    this.weighted = this.hosts.some((h) => h.weight !== first);
    this.next = Math.floor(Math.random() * Math.max(1, this.hosts.length));
    this.current = this.hosts.map(() => 0);
    this.totalWeight = this.hosts.reduce((s, h) => s + h.weight, 0);
  }

  chooseHost(): Host | null {
    const n = this.hosts.length;
    if (n === 0) return null;
    if (!this.weighted) {
      const h = this.hosts[this.next % n]!;
      this.next = (this.next + 1) % n;
      return h;
    }
    let best = 0;
    for (let i = 0; i < n; i++) {
      this.current[i]! += this.hosts[i]!.weight;
      if (this.current[i]! > this.current[best]!) best = i;
    }
    this.current[best]! -= this.totalWeight;
    return this.hosts[best]!;
  }
}
