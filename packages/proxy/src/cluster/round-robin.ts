import type { Host } from './host.js';
import type { LoadBalancer } from './load-balancer.js';
import type { PrioritySet } from './priority-set.js';
import { slowStartEnds, slowStartFactor, type SlowStartConfig } from './slow-start.js';

/**
 * Envoy's ROUND_ROBIN: plain rotation when all weights are equal, weighted otherwise (smooth weighted
 * round robin, which spreads a host's turns evenly as Envoy's EDF scheduler does). Starts at a random
 * position so that many proxies don't all hit the same first host. With slow start, hosts that joined
 * less than a window ago count with their ramped-up weight until the window is over.
 */
export class RoundRobinLoadBalancer implements LoadBalancer {
  private readonly hosts: readonly Host[];
  private readonly weighted: boolean;
  private next: number;
  private readonly current: number[];
  private readonly totalWeight: number;
  /** performance.now() until which some host is in slow start (0: none). */
  private readonly slowStartUntil: number;

  constructor(
    set: PrioritySet,
    private readonly slowStart: SlowStartConfig | null = null,
  ) {
    this.hosts = set.hostsToBalance;
    const first = this.hosts[0]?.weight ?? 1;
    this.weighted = this.hosts.some((h) => h.weight !== first);
    this.next = Math.floor(Math.random() * Math.max(1, this.hosts.length));
    this.current = this.hosts.map(() => 0);
    this.totalWeight = this.hosts.reduce((s, h) => s + h.weight, 0);
    this.slowStartUntil = slowStartEnds(slowStart, this.hosts);
  }

  chooseHost(): Host | null {
    const n = this.hosts.length;
    if (n === 0) return null;
    if (this.slowStartUntil !== 0) {
      const now = performance.now();
      if (now < this.slowStartUntil) return this.pickWeighted(now);
    }
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

  /** Smooth weighted round robin on the weights as slow start scales them now. */
  private pickWeighted(now: number): Host {
    const c = this.slowStart!;
    let best = 0;
    let total = 0;
    for (let i = 0; i < this.hosts.length; i++) {
      const h = this.hosts[i]!;
      const w = h.weight * slowStartFactor(c, h.stats.slowStartSinceMs, now);
      total += w;
      this.current[i]! += w;
      if (this.current[i]! > this.current[best]!) best = i;
    }
    this.current[best]! -= total;
    return this.hosts[best]!;
  }
}
