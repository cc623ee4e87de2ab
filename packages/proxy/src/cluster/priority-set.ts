import type { Host } from './host.js';

/** The hosts of one priority level. */
export interface HostSet {
  readonly priority: number;
  readonly hosts: readonly Host[];
  readonly healthyHosts: readonly Host[];
  readonly degradedHosts: readonly Host[];
}

/**
 * A cluster's hosts by priority (lowest number first), immutable: a change (EDS, DNS) builds a new one.
 * `hostsToBalance` is what a load balancer picks from, computed once per set.
 */
export class PrioritySet {
  readonly hostSets: readonly HostSet[];
  readonly allHosts: readonly Host[];
  readonly hostsToBalance: readonly Host[];
  /** True when `hostsToBalance` ignores health because too few hosts are healthy (Envoy's panic mode). */
  readonly panic: boolean;

  constructor(hosts: readonly Host[], healthyPanicThreshold: number) {
    const byPriority = new Map<number, Host[]>();
    for (const h of hosts) {
      const level = byPriority.get(h.priority) ?? [];
      level.push(h);
      byPriority.set(h.priority, level);
    }
    this.hostSets = [...byPriority.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([priority, list]) => ({
        priority,
        hosts: list,
        healthyHosts: list.filter((h) => h.healthy),
        degradedHosts: list.filter((h) => h.degraded),
      }));
    this.allHosts = hosts;
    const { chosen, panic } = selectHosts(this.hostSets, healthyPanicThreshold);
    this.hostsToBalance = chosen;
    this.panic = panic;
  }
}

/**
 * Simplified Envoy priority/panic logic: the first priority level with healthy hosts takes all the traffic
 * (then degraded ones); when the healthy share of that level is below the panic threshold, all of its
 * hosts are used regardless of health; with nothing healthy anywhere, panic uses the first level's hosts,
 * or nothing when the threshold is 0 (panic disabled).
 */
function selectHosts(sets: readonly HostSet[], panicThreshold: number): { chosen: readonly Host[]; panic: boolean } {
  for (const set of sets) {
    if (set.healthyHosts.length === 0) continue;
    const healthyPercent = (100 * set.healthyHosts.length) / set.hosts.length;
    if (panicThreshold > 0 && healthyPercent < panicThreshold) return { chosen: set.hosts, panic: true };
    return { chosen: set.healthyHosts, panic: false };
  }
  for (const set of sets) if (set.degradedHosts.length > 0) return { chosen: set.degradedHosts, panic: false };
  if (panicThreshold > 0 && sets.length > 0) return { chosen: sets[0]!.hosts, panic: true };
  return { chosen: [], panic: false };
}
