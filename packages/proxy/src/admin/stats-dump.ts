import type { Cluster } from '../cluster/cluster.js';
import { CLUSTER_STAT_NAMES } from '../cluster/cluster-stats.js';

export interface Stat {
  readonly name: string;
  readonly value: number;
}

/**
 * Envoy's `/stats` for clusters: `cluster.<name>.<stat>` for every counter and gauge of ClusterStats, the
 * circuit breakers' open flags and remaining capacity (`circuit_breakers.default.*`), and host membership.
 * Sorted by name, as Envoy prints them.
 */
export function clusterStats(clusters: ReadonlyMap<string, Cluster>): Stat[] {
  const out: Stat[] = [];
  for (const [name, c] of clusters) {
    const p = `cluster.${name}.`;
    const r = c.resources;
    const breakers: [string, number][] = [
      ['cx_open', r.connections.canCreate() ? 0 : 1],
      ['remaining_cx', r.connections.remaining],
      ['remaining_pending', r.pendingRequests.remaining],
      ['remaining_retries', r.retries.remaining],
      ['remaining_rq', r.requests.remaining],
      ['rq_open', r.requests.canCreate() ? 0 : 1],
      ['rq_pending_open', r.pendingRequests.canCreate() ? 0 : 1],
      ['rq_retry_open', r.retries.canCreate() ? 0 : 1],
    ];
    for (const [n, v] of breakers) out.push({ name: `${p}circuit_breakers.default.${n}`, value: v });
    const hosts = c.hosts;
    out.push({ name: `${p}membership_degraded`, value: hosts.hostSets.reduce((s, set) => s + set.degradedHosts.length, 0) });
    out.push({ name: `${p}membership_healthy`, value: hosts.hostSets.reduce((s, set) => s + set.healthyHosts.length, 0) });
    out.push({ name: `${p}membership_total`, value: hosts.allHosts.length });
    for (const [n, field] of CLUSTER_STAT_NAMES) out.push({ name: p + n, value: c.stats[field] });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The text form: `name: value` lines; `filter` (a regular expression) keeps the matching names. */
export function statsText(stats: readonly Stat[], filter: RegExp | null): string {
  let out = '';
  for (const s of stats) if (!filter || filter.test(s.name)) out += `${s.name}: ${s.value}\n`;
  return out;
}
