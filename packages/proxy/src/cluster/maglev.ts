import type { LbConfig } from '../config/compiled-config.js';
import { random64, xxhash64 } from './hash/xxhash64.js';
import type { Host } from './host.js';
import type { LoadBalancer, LoadBalancerContext } from './load-balancer.js';
import type { PrioritySet } from './priority-set.js';

type MaglevConfig = Extract<LbConfig, { kind: 'maglev' }>;

/**
 * The Maglev lookup table (Eisenbud et al., as Envoy's MaglevTable builds it): host i walks its own
 * permutation of the table, `(offset + skip * n) % size` with offset = xxHash64(key) % size and
 * skip = xxHash64(key, seed 1) % (size - 1) + 1, claiming the next free slot on each of its turns. Turns
 * are weighted: a host with normalised weight w takes a turn in round r when r * w >= its running target,
 * which then grows by the largest weight. Hosts take turns in the order of their keys (as Envoy sorts
 * them), so the table doesn't depend on the order endpoints arrive in. Returns the owning host index per
 * slot; `size` must be prime.
 */
export function buildMaglevTable(keys: readonly string[], weights: readonly number[], size: number): Int32Array {
  const table = new Int32Array(size).fill(-1);
  if (keys.length === 0) return table;
  const sum = weights.reduce((s, w) => s + w, 0);
  const sizeBig = BigInt(size);
  const order = keys.map((_, i) => i).sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  const entries = order.map((i) => ({
    host: i,
    offset: Number(xxhash64(keys[i]!) % sizeBig),
    skip: Number(xxhash64(keys[i]!, 1n) % (sizeBig - 1n)) + 1,
    weight: weights[i]! / sum,
    target: 0,
    next: 0,
  }));
  const maxWeight = Math.max(...entries.map((e) => e.weight));
  let filled = 0;
  for (let round = 1; filled < size; round++) {
    for (const e of entries) {
      if (filled === size) break;
      if (round * e.weight < e.target) continue;
      e.target += maxWeight;
      let slot = (e.offset + e.skip * e.next) % size;
      while (table[slot] !== -1) {
        e.next++;
        slot = (e.offset + e.skip * e.next) % size;
      }
      table[slot] = e.host;
      e.next++;
      filled++;
    }
  }
  return table;
}

/**
 * Envoy's MAGLEV over the set to balance: the request's hash picks slot `hash % table_size`; a request
 * without a key gets a random slot. Removing one of n hosts moves about 1/n of the keys (the Maglev
 * paper's near-minimal disruption: slightly more than a ring, bounded by the table's rebalancing).
 */
export class MaglevLoadBalancer implements LoadBalancer {
  private readonly hosts: readonly Host[];
  private readonly table: Int32Array;
  private readonly sizeBig: bigint;

  constructor(set: PrioritySet, config: MaglevConfig) {
    this.hosts = set.hostsToBalance;
    this.sizeBig = BigInt(config.tableSize);
    const keys = this.hosts.map((h) => (config.useHostnameForHashing ? h.endpoint.hostname : h.address));
    this.table = buildMaglevTable(
      keys,
      this.hosts.map((h) => h.weight),
      config.tableSize,
    );
  }

  chooseHost(ctx: LoadBalancerContext | null): Host | null {
    if (this.hosts.length === 0) return null;
    const hash = ctx?.hashKey() ?? random64();
    return this.hosts[this.table[Number(hash % this.sizeBig)]!]!;
  }
}
