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
 * How many ring positions each host gets, Ketama-style: `minimum_ring_size × weight ÷ lightest weight`
 * (rounded up), so with equal weights every host has minimum_ring_size positions of its own whatever
 * the other hosts are, and the ring as a whole has at least minimum_ring_size. Only when the total
 * would pass maximum_ring_size are all counts scaled down in proportion (at least one each).
 *
 * Envoy differs on purpose here: it spreads minimum_ring_size over all hosts (each of n hosts gets
 * ~minimum_ring_size / n positions), so removing one host changes every host's share and moves keys
 * between hosts that stayed. Here a host's positions depend only on its own key and weight (and on the
 * lightest weight, which equal weights never change), so removing one of n hosts moves only the keys
 * that host owned (~1/n) — the acceptance DESIGN.md promises ("ring hash = Ketama-style").
 */
export function ringPositionCounts(weights: readonly number[], minimumRingSize: number, maximumRingSize: number): number[] {
  if (weights.length === 0) return [];
  const lightest = Math.min(...weights);
  const counts = weights.map((w) => Math.ceil((minimumRingSize * w) / lightest));
  const total = counts.reduce((s, c) => s + c, 0);
  if (total <= maximumRingSize) return counts;
  const scale = maximumRingSize / total;
  return counts.map((c) => Math.max(1, Math.floor(c * scale)));
}

/**
 * The ring (Ketama): host i owns positions xxHash64(`${key}_${n}`) for n < its count (ringPositionCounts).
 * `keys` are the hosts' addresses (`ip:port`) or host names.
 */
export function buildRing(keys: readonly string[], weights: readonly number[], minimumRingSize: number, maximumRingSize: number): Ring {
  const counts = ringPositionCounts(weights, minimumRingSize, maximumRingSize);
  const perHost = keys.map((k, i) => hostPositions(k, counts[i]!));
  const size = counts.reduce((s, c) => s + c, 0);
  const all = new BigUint64Array(size);
  const ownerOf = new Map<bigint, number>();
  let p = 0;
  perHost.forEach((positions, i) => {
    all.set(positions, p);
    p += positions.length;
    for (const h of positions) ownerOf.set(h, i);
  });
  const hashes = all.sort();
  const owners = new Uint32Array(size);
  for (let j = 0; j < size; j++) owners[j] = ownerOf.get(hashes[j]!)!;
  return { hashes, owners };
}

/**
 * A host's positions depend only on its key and count, so they are kept across rebuilds (a host set
 * change, an ejection) for hosts that stay: hashing is the expensive part (~2 µs per position). Bounded
 * by total positions cached, least recently used dropped first.
 */
const POSITION_CACHE_LIMIT = 1 << 20;
const positionCache = new Map<string, BigUint64Array>();
let cachedPositions = 0;

function hostPositions(key: string, count: number): BigUint64Array {
  const cacheKey = `${count}|${key}`;
  const hit = positionCache.get(cacheKey);
  if (hit) {
    positionCache.delete(cacheKey);
    positionCache.set(cacheKey, hit);
    return hit;
  }
  const positions = new BigUint64Array(count);
  for (let n = 0; n < count; n++) positions[n] = xxhash64(`${key}_${n}`);
  if (count > POSITION_CACHE_LIMIT) return positions;
  positionCache.set(cacheKey, positions);
  cachedPositions += count;
  for (const [k, v] of positionCache) {
    if (cachedPositions <= POSITION_CACHE_LIMIT) break;
    positionCache.delete(k);
    cachedPositions -= v.length;
  }
  return positions;
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
