import type { LbConfig } from '../config/compiled-config.js';
import { random64, xxhash64 } from './hash/xxhash64.js';
import type { Host } from './host.js';
import type { LoadBalancer, LoadBalancerContext } from './load-balancer.js';
import type { PrioritySet } from './priority-set.js';

type RingHashConfig = Extract<LbConfig, { kind: 'ring_hash' }>;

/** A consistent-hash ring: sorted positions, and which host owns each one. */
export interface Ring {
  readonly hashes: BigUint64Array;
  /** Index into the host list for each position. */
  readonly owners: Uint32Array;
}

/**
 * Envoy's RingHashLoadBalancer ring (Ketama): weights are normalised to sum 1 and scaled so the lightest
 * host gets ceil(min_weight * minimum_ring_size) / min_weight positions in all (capped by maximum_ring_size);
 * host i gets positions xxHash64(`${key}_${n}`) for n = 0, 1, ... while a running total of hashes stays
 * below the running target `scale * sum(weights so far)`. `keys` are the hosts' addresses (`ip:port`)
 * or host names.
 */
export function buildRing(keys: readonly string[], weights: readonly number[], minimumRingSize: number, maximumRingSize: number): Ring {
  if (keys.length === 0) return { hashes: new BigUint64Array(0), owners: new Uint32Array(0) };
  const sum = weights.reduce((s, w) => s + w, 0);
  const normalized = weights.map((w) => w / sum);
  const minNormalized = Math.min(...normalized);
  const scale = Math.min(Math.ceil(minNormalized * minimumRingSize) / minNormalized, maximumRingSize);
  const positions: bigint[] = [];
  const ownerOf = new Map<bigint, number>();
  let current = 0;
  let target = 0;
  for (let i = 0; i < keys.length; i++) {
    target += scale * normalized[i]!;
    for (let n = 0; current < target; n++, current++) {
      const h = xxhash64(`${keys[i]}_${n}`);
      positions.push(h);
      ownerOf.set(h, i);
    }
  }
  const hashes = BigUint64Array.from(positions).sort();
  const owners = new Uint32Array(hashes.length);
  for (let p = 0; p < hashes.length; p++) owners[p] = ownerOf.get(hashes[p]!)!;
  return { hashes, owners };
}

/** The position a hash lands on: the first at or after it, wrapping to the start (Ketama's lookup). */
export function ringLookup(ring: Ring, hash: bigint): number {
  const hashes = ring.hashes;
  let lo = 0;
  let hi = hashes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (hashes[mid]! < hash) lo = mid + 1;
    else hi = mid;
  }
  return lo === hashes.length ? 0 : lo;
}

/**
 * Envoy's RING_HASH over the set to balance. A request hashes through its route's hash_policy; one without
 * a key gets a random position, so such requests spread by weight.
 */
export class RingHashLoadBalancer implements LoadBalancer {
  private readonly hosts: readonly Host[];
  private readonly ring: Ring;

  constructor(set: PrioritySet, config: RingHashConfig) {
    this.hosts = set.hostsToBalance;
    const keys = this.hosts.map((h) => (config.useHostnameForHashing ? h.endpoint.hostname : h.address));
    this.ring = buildRing(
      keys,
      this.hosts.map((h) => h.weight),
      config.minimumRingSize,
      config.maximumRingSize,
    );
  }

  chooseHost(ctx: LoadBalancerContext | null): Host | null {
    if (this.hosts.length === 0) return null;
    const hash = ctx?.hashKey() ?? random64();
    return this.hosts[this.ring.owners[ringLookup(this.ring, hash)]!]!;
  }

  get ringSize(): number {
    return this.ring.hashes.length;
  }
}
