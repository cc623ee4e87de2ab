import { describe, expect, it } from 'vitest';
import type { EndpointConfig, HealthStatus } from '../../src/config/compiled-config.js';
import { EdfScheduler } from '../../src/cluster/edf-scheduler.js';
import { Host, HostStats } from '../../src/cluster/host.js';
import { LeastRequestLoadBalancer } from '../../src/cluster/least-request.js';
import { buildMaglevTable, MaglevLoadBalancer } from '../../src/cluster/maglev.js';
import { parseIpPort } from '../../src/cluster/original-dst.js';
import { PrioritySet } from '../../src/cluster/priority-set.js';
import { RandomLoadBalancer } from '../../src/cluster/random.js';
import { buildRing, ringLookup, ringPositionCounts, RingHashLoadBalancer } from '../../src/cluster/ring-hash.js';
import { xxhash64 } from '../../src/cluster/hash/xxhash64.js';
import type { LoadBalancerContext } from '../../src/cluster/load-balancer.js';

const LOCALITY = { region: '', zone: '', subZone: '' };
function host(port: number, weight = 1, hostname = '', health: HealthStatus = 'HEALTHY'): Host {
  const ep: EndpointConfig = { address: '127.0.0.1', port, hostname, weight, health, targetPort: null, metadata: {} };
  return new Host('c', '127.0.0.1', port, ep, LOCALITY, 0, 1000, new HostStats());
}
const ports = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** A balancer context that carries only a hash key. */
const withHash = (h: bigint): LoadBalancerContext => ({ hashKey: () => h }) as unknown as LoadBalancerContext;

describe('ring hash (Ketama: each host its own positions)', () => {
  it("hashes `address_n` as Envoy does: 6 hosts x 2 positions is Envoy's reference ring (ring_hash_lb_test Basic: minimum_ring_size 12 spread over 6)", () => {
    const keys = ports(90, 95).map((p) => `127.0.0.1:${p}`);
    const ring = buildRing(keys, keys.map(() => 1), 2, 8 * 1024 * 1024);
    const got = [...ring.hashes].map((h, i) => [keys[ring.owners[i]!]!.slice(-2), h]);
    expect(got).toEqual([
      ['94', 833437586790550860n],
      ['92', 928266305478181108n],
      ['90', 1033482794131418490n],
      ['95', 3551244743356806947n],
      ['93', 3851675632748031481n],
      ['91', 5583722120771150861n],
      ['91', 6311230543546372928n],
      ['93', 7700377290971790572n],
      ['95', 13144177310400110813n],
      ['92', 13444792449719432967n],
      ['94', 15516499411664133160n],
      ['90', 16117243373044804889n],
    ]);
    // A hash lands on the first position at or after it; past the last it wraps to the first.
    expect(ringLookup(ring, 0n)).toBe(0);
    expect(ringLookup(ring, 833437586790550860n)).toBe(0);
    expect(ringLookup(ring, 833437586790550861n)).toBe(1);
    expect(ringLookup(ring, 16117243373044804890n)).toBe(0);
  });

  it('gives each host minimum_ring_size x weight / lightest weight positions, independent of the other hosts; scaled down only at maximum_ring_size', () => {
    const count = (owners: Uint32Array, i: number) => owners.filter((o) => o === i).length;
    const equal = buildRing(['a:1', 'b:1', 'c:1'], [1, 1, 1], 1024, 8 * 1024 * 1024);
    expect(equal.hashes.length).toBe(3 * 1024);
    expect([0, 1, 2].map((i) => count(equal.owners, i))).toEqual([1024, 1024, 1024]);
    expect(ringPositionCounts([2, 4, 3], 1024, 1 << 23)).toEqual([1024, 2048, 1536]);
    const weighted = buildRing(['a:1', 'b:1'], [1, 2], 1024, 8 * 1024 * 1024);
    expect([count(weighted.owners, 0), count(weighted.owners, 1)]).toEqual([1024, 2048]);
    // At the cap: proportional, at least one each.
    expect(ringPositionCounts([1, 1], 1024, 10)).toEqual([5, 5]);
    expect(ringPositionCounts([1, 3], 1024, 400)).toEqual([100, 300]);
    expect(buildRing(['a:1', 'b:1'], [1, 1], 1024, 10).hashes.length).toBe(10);
    // sorted
    const h = [...equal.hashes];
    expect(h.every((v, i) => i === 0 || h[i - 1]! <= v)).toBe(true);
  });

  it('removing one of 5 hosts moves only its keys (about 1/5, <= 30%); no key moves between hosts that stayed', () => {
    const keys = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.4:80', '10.0.0.5:80'];
    const before = buildRing(keys, [1, 1, 1, 1, 1], 1024, 1 << 23);
    const after = buildRing(keys.slice(0, 4), [1, 1, 1, 1], 1024, 1 << 23);
    let moved = 0;
    let fromStaying = 0;
    for (let i = 0; i < 10_000; i++) {
      const h = xxhash64(`key-${i}`);
      const was = keys[before.owners[ringLookup(before, h)]!]!;
      const now = keys[after.owners[ringLookup(after, h)]!]!;
      if (was === now) continue;
      moved++;
      if (was !== '10.0.0.5:80') fromStaying++;
    }
    expect(fromStaying).toBe(0);
    expect(moved / 10_000).toBeGreaterThan(0.1);
    expect(moved / 10_000).toBeLessThanOrEqual(0.3);
  });

  it('sends a hash key to the same host every time, and a request without one anywhere (random)', () => {
    const set = new PrioritySet(ports(90, 95).map((p) => host(p)), 50);
    const lb = new RingHashLoadBalancer(set, { kind: 'ring_hash', minimumRingSize: 2, maximumRingSize: 1 << 23, useHostnameForHashing: false });
    expect(lb.chooseHost(withHash(0n))!.port).toBe(94);
    expect(lb.chooseHost(withHash(5583722120771150862n))!.port).toBe(91);
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) seen.add(lb.chooseHost(null)!.port);
    expect(seen.size).toBe(6);
  });
});

describe('maglev (as Envoy builds the table)', () => {
  const idx = (t: Int32Array) => [...t];

  it("reproduces Envoy's reference tables (maglev_lb_test Basic, BasicWithHostName, Weighted)", () => {
    const addrs = ports(90, 95).map((p) => `127.0.0.1:${p}`);
    expect(idx(buildMaglevTable(addrs, addrs.map(() => 1), 7))).toEqual([2, 4, 0, 1, 5, 0, 3]);
    const names = ports(90, 95).map(String);
    expect(idx(buildMaglevTable(names, names.map(() => 1), 7))).toEqual([2, 5, 0, 3, 4, 1, 0]);
    expect(idx(buildMaglevTable(['127.0.0.1:90', '127.0.0.1:91'], [1, 2], 17))).toEqual([1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1]);
  });

  it('does not depend on the order hosts arrive in (hosts take turns in key order)', () => {
    const addrs = ports(90, 95).map((p) => `127.0.0.1:${p}`);
    const reversed = [...addrs].reverse();
    const a = idx(buildMaglevTable(addrs, addrs.map(() => 1), 65537)).map((i) => addrs[i]);
    const b = idx(buildMaglevTable(reversed, reversed.map(() => 1), 65537)).map((i) => reversed[i]);
    expect(a).toEqual(b);
  });

  it('fills every slot; shares are within 1% of the weights on the default table size', () => {
    const keys = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80'];
    const t = buildMaglevTable(keys, [1, 1, 2], 65537);
    expect(t.includes(-1)).toBe(false);
    const share = (i: number) => t.filter((x) => x === i).length / t.length;
    expect(share(0)).toBeCloseTo(0.25, 2);
    expect(share(2)).toBeCloseTo(0.5, 2);
  });

  it('picks slot hash % table_size', () => {
    const set = new PrioritySet(ports(90, 95).map((p) => host(p)), 50);
    const lb = new MaglevLoadBalancer(set, { kind: 'maglev', tableSize: 7, useHostnameForHashing: false });
    expect([0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 10n].map((h) => lb.chooseHost(withHash(h))!.port)).toEqual([92, 94, 90, 91, 95, 90, 93, 92, 91]);
  });
});

describe('least request', () => {
  const cfg = { kind: 'least_request' as const, choiceCount: 2, activeRequestBias: 1, fullScan: false };

  it('with two choices never picks the busiest of three hosts (it always loses its comparison or is not drawn twice)', () => {
    const hosts = [host(1), host(2), host(3)];
    hosts[0]!.stats.rqActive = 5;
    hosts[1]!.stats.rqActive = 1;
    const lb = new LeastRequestLoadBalancer(new PrioritySet(hosts, 50), cfg);
    const counts = new Map<number, number>();
    for (let i = 0; i < 3000; i++) {
      const p = lb.chooseHost()!.port;
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    // P(busiest) = P(both draws hit it) = 1/9; P(idle host 3) = 1 - (2/3)^2 = 5/9. Tolerance ±4 points.
    expect(counts.get(1)! / 3000).toBeCloseTo(1 / 9, 1);
    expect(counts.get(3)! / 3000).toBeGreaterThan(0.51);
    expect(counts.get(3)! / 3000).toBeLessThan(0.6);
  });

  it('full scan always picks the least loaded host', () => {
    const hosts = [host(1), host(2), host(3)];
    hosts[0]!.stats.rqActive = 2;
    hosts[1]!.stats.rqActive = 0;
    hosts[2]!.stats.rqActive = 1;
    const lb = new LeastRequestLoadBalancer(new PrioritySet(hosts, 50), { ...cfg, fullScan: true });
    for (let i = 0; i < 50; i++) expect(lb.chooseHost()!.port).toBe(2);
  });

  it('weighted (EDF on weight / (active + 1)): idle hosts share by weight; a busy heavy host loses its share', () => {
    const hosts = [host(1, 3), host(2, 1)];
    const lb = new LeastRequestLoadBalancer(new PrioritySet(hosts, 50), cfg);
    const pick = (n: number) => {
      const c = [0, 0];
      for (let i = 0; i < n; i++) c[lb.chooseHost()!.port - 1]!++;
      return c;
    };
    expect(pick(400)).toEqual([300, 100]);
    hosts[0]!.stats.rqActive = 5; // effective weight 3/6 = 0.5 against 1
    const [busy, idle] = pick(300);
    expect(busy! / 300).toBeCloseTo(1 / 3, 1);
    expect(idle! / 300).toBeCloseTo(2 / 3, 1);
  });

  it('the EDF scheduler gives turns in proportion to weight, ties in insertion order', () => {
    const edf = new EdfScheduler<string>();
    edf.add('a', 2);
    edf.add('b', 1);
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      const x = edf.pick()!;
      order.push(x);
      edf.add(x, x === 'a' ? 2 : 1);
    }
    // a is due at 0.5, 1, 1.5 ...; b at 1, 2 ...: the tie at 1 goes to b, added first.
    expect(order).toEqual(['a', 'b', 'a', 'a', 'b', 'a']);
  });
});

describe('random', () => {
  it('picks every healthy host, never an unhealthy one, uniformly within ±5 points over 3000 picks', () => {
    const lb = new RandomLoadBalancer(new PrioritySet([host(1), host(2, 5), host(3), host(4, 1, '', 'UNHEALTHY')], 50));
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[lb.chooseHost()!.port]!++;
    expect(counts[4]).toBe(0);
    for (const p of [1, 2, 3]) expect(Math.abs(counts[p]! / 3000 - 1 / 3)).toBeLessThan(0.05);
  });
});

describe('original destination addresses', () => {
  it('parses ip:port, [v6]:port, and a bare IP with a default port; rejects names', () => {
    expect(parseIpPort('10.1.2.3:8080', null)).toEqual({ ip: '10.1.2.3', port: 8080 });
    expect(parseIpPort('10.1.2.3', 80)).toEqual({ ip: '10.1.2.3', port: 80 });
    expect(parseIpPort('10.1.2.3', null)).toBeNull();
    expect(parseIpPort('[::1]:9000', null)).toEqual({ ip: '::1', port: 9000 });
    expect(parseIpPort('[::1]', 80)).toEqual({ ip: '::1', port: 80 });
    expect(parseIpPort('example.com:80', 80)).toBeNull();
    expect(parseIpPort('10.1.2.3:99999', 80)).toBeNull();
    expect(parseIpPort('10.1.2.3:', 80)).toBeNull();
  });
});

describe('slow start', () => {
  it("ramps a new host's weight as Envoy does: (elapsed / window) ^ (1 / aggression), at least min_weight_percent", async () => {
    const { slowStartFactor } = await import('../../src/cluster/slow-start.js');
    const c = { windowMs: 1000, aggression: 1, minWeightPercent: 10 };
    expect(slowStartFactor(c, null, 500)).toBe(1);
    expect(slowStartFactor(c, 0, 500)).toBeCloseTo(0.5, 10);
    expect(slowStartFactor(c, 0, 50)).toBeCloseTo(0.1, 10);
    expect(slowStartFactor(c, 0, 1000)).toBe(1);
    expect(slowStartFactor({ ...c, aggression: 2 }, 0, 250)).toBeCloseTo(0.5, 10);
  });

  it('round robin gives a host in slow start its ramped share, and its full share once the window is over', async () => {
    const { RoundRobinLoadBalancer } = await import('../../src/cluster/round-robin.js');
    const hosts = [host(1), host(2)];
    hosts[1]!.stats.slowStartSinceMs = performance.now() - 250; // a quarter into a 1 s window
    const lb = new RoundRobinLoadBalancer(new PrioritySet(hosts, 50), { windowMs: 1000, aggression: 1, minWeightPercent: 10 });
    let newHost = 0;
    for (let i = 0; i < 200; i++) if (lb.chooseHost()!.port === 2) newHost++;
    // weight ~0.25-0.3 against 1 while the test runs: ~20-23% of picks.
    expect(newHost / 200).toBeGreaterThan(0.15);
    expect(newHost / 200).toBeLessThan(0.3);
    hosts[1]!.stats.slowStartSinceMs = performance.now() - 2000;
    const after = new RoundRobinLoadBalancer(new PrioritySet(hosts, 50), { windowMs: 1000, aggression: 1, minWeightPercent: 10 });
    let n = 0;
    for (let i = 0; i < 200; i++) if (after.chooseHost()!.port === 2) n++;
    expect(n).toBe(100);
  });
});
