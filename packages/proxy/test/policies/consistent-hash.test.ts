import type { EnvoyJson } from '@trellis/envoy-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSidecar, type RunningSidecar } from '../dataplane/helpers/client.js';
import { listener, routeConfig, snapshot, staticCluster, toCluster, vhost } from '../dataplane/helpers/resources.js';
import { xxhash64 } from '../../src/cluster/hash/xxhash64.js';
import { buildMaglevTable } from '../../src/cluster/maglev.js';
import { buildRing, ringLookup } from '../../src/cluster/ring-hash.js';
import { call, closeAgents, many, tally, upstream, type Upstream } from './helpers.js';

// Consistent hashing through a real sidecar: RING_HASH and MAGLEV clusters over five upstreams
// (127.0.140.1-5), keyed by header, cookie, source IP and query parameter. Clients for the source-IP
// test come from 127.0.141.x.

let ups: Upstream[];
let proxy: RunningSidecar;

const ring = (hosts: Upstream[]) =>
  staticCluster('ring', hosts.map((u) => ({ address: u.ip, port: u.port })), { lb: 'RING_HASH', extra: { ring_hash_lb_config: { minimum_ring_size: { value: 1024 } } } });
const maglev = (hosts: Upstream[]) => staticCluster('maglev', hosts.map((u) => ({ address: u.ip, port: u.port })), { lb: 'MAGLEV' });

const byHeader = { hash_policy: [{ header: { header_name: 'x-key' } }] };
function config(hosts: Upstream[], version: string) {
  const routes: [string, string, EnvoyJson][] = [
    ['ring', 'ring', byHeader],
    ['maglev', 'maglev', byHeader],
    ['cookie', 'ring', { hash_policy: [{ cookie: { name: 'sticky', path: '/', ttl: { seconds: 60 } } }] }],
    ['source', 'ring', { hash_policy: [{ connection_properties: { source_ip: true } }] }],
    ['query', 'maglev', { hash_policy: [{ query_parameter: { name: 'u' } }] }],
  ];
  return snapshot({
    version,
    listeners: [listener('virtualOutbound', 15001, 'r')],
    routes: [routeConfig('r', routes.map(([domain, cluster, action]) => vhost(domain, [domain], [toCluster({ prefix: '/' }, cluster, action)])))],
    clusters: [ring(hosts), maglev(hosts)],
  });
}

beforeAll(async () => {
  ups = await Promise.all([1, 2, 3, 4, 5].map((i) => upstream(`u${i}`, `127.0.140.${i}`)));
  proxy = await startSidecar(config(ups, '1'));
});

afterAll(async () => {
  closeAgents();
  await proxy.close();
  await Promise.all(ups.map((u) => u.close()));
});

const KEYS = Array.from({ length: 1000 }, (_, i) => `user-${i}`);

/** Where each key lands on `host`, asking `rounds` times per key; fails the test if a key ever moves. */
async function placement(host: string, rounds: number): Promise<Map<string, string>> {
  const answers = await many(KEYS.length * rounds, 48, (i) => call(proxy.port, host, '/', { headers: { 'x-key': KEYS[i % KEYS.length]! } }));
  const where = new Map<string, string>();
  answers.forEach((a, i) => {
    expect(a.status).toBe(200);
    const key = KEYS[i % KEYS.length]!;
    const seen = where.get(key);
    if (seen !== undefined && seen !== a.upstream) throw new Error(`${key} went to ${seen} and to ${a.upstream}`);
    where.set(key, a.upstream);
  });
  return where;
}

/** The sidecar's placements equal the model's: the Ketama ring (1024 positions per host) and a 65537-slot Maglev table over `hosts`. */
function expectModel(ringWhere: Map<string, string>, maglevWhere: Map<string, string>, hosts: Upstream[]): void {
  const keys = hosts.map((u) => `${u.ip}:${u.port}`);
  const r = buildRing(keys, keys.map(() => 1), 1024, 8 * 1024 * 1024);
  const t = buildMaglevTable(keys, keys.map(() => 1), 65537);
  for (const k of KEYS) {
    const h = xxhash64(k);
    expect(ringWhere.get(k)).toBe(hosts[r.owners[ringLookup(r, h)]!]!.name);
    expect(maglevWhere.get(k)).toBe(hosts[t[Number(h % 65537n)]!]!.name);
  }
}

function moved(before: Map<string, string>, after: Map<string, string>): { moved: number; movedFromStayingHosts: number } {
  let m = 0;
  let fromStaying = 0;
  for (const [k, u] of before) {
    if (after.get(k) === u) continue;
    m++;
    if (u !== 'u5') fromStaying++;
  }
  return { moved: m, movedFromStayingHosts: fromStaying };
}

describe('consistent hashing', () => {
  it('ring hash: 1000 keys x 5 requests each always land on the same endpoint; all endpoints get keys', async () => {
    const where = await placement('ring', 5);
    const perHost = tally([...where.values()]);
    expect(Object.keys(perHost).sort()).toEqual(['u1', 'u2', 'u3', 'u4', 'u5']);
  });

  it('maglev: 1000 keys x 5 requests each always land on the same endpoint; shares within 20% ± 8 points', async () => {
    const where = await placement('maglev', 5);
    for (const n of Object.values(tally([...where.values()]))) expect(Math.abs(n / 1000 - 0.2)).toBeLessThan(0.08);
  });

  it("removing one of five endpoints: every key lands where the ring / Maglev table puts it; ring: only the removed endpoint's keys move (~20%, <= 30%), none between endpoints that stayed; maglev <= 30% moved and <= 3% from the endpoints that stayed", async () => {
    const ringBefore = await placement('ring', 1);
    const maglevBefore = await placement('maglev', 1);
    expectModel(ringBefore, maglevBefore, ups);
    proxy.sidecar.apply(config(ups.slice(0, 4), '2'));
    try {
      const ringAfter = await placement('ring', 2);
      const maglevAfter = await placement('maglev', 2);
      expectModel(ringAfter, maglevAfter, ups.slice(0, 4));
      expect([...ringAfter.values(), ...maglevAfter.values()]).not.toContain('u5');
      // Ketama: each endpoint keeps its own 1024 positions, so exactly the removed endpoint's keys move.
      const r = moved(ringBefore, ringAfter);
      const onRemoved = [...ringBefore.values()].filter((u) => u === 'u5').length;
      expect(r.movedFromStayingHosts).toBe(0);
      expect(r.moved).toBe(onRemoved);
      expect(r.moved / 1000).toBeGreaterThanOrEqual(0.1);
      expect(r.moved / 1000).toBeLessThanOrEqual(0.3);
      // Maglev refills the removed endpoint's slots; the others' slots barely shift (the paper's
      // measured disruption is a few percent of the table).
      const m = moved(maglevBefore, maglevAfter);
      expect(m.moved / 1000).toBeLessThanOrEqual(0.3);
      expect(m.movedFromStayingHosts / 1000).toBeLessThanOrEqual(0.03);
    } finally {
      proxy.sidecar.apply(config(ups, '3'));
    }
  });

  it('requests without the key spread at random: 500 requests reach all five, each 20% ± 10 points', async () => {
    const answers = await many(500, 16, () => call(proxy.port, 'ring'));
    const counts = tally(answers.map((a) => a.upstream));
    expect(Object.keys(counts).sort()).toEqual(['u1', 'u2', 'u3', 'u4', 'u5']);
    for (const n of Object.values(counts)) expect(Math.abs(n / 500 - 0.2)).toBeLessThan(0.1);
  });

  it("cookie: a request without the cookie gets one (Envoy's Set-Cookie) and the cookie then sticks", async () => {
    const clients = await many(20, 10, async () => {
      const first = await call(proxy.port, 'cookie');
      const setCookie = first.headers['set-cookie'];
      expect(setCookie).toHaveLength(1);
      const m = /^sticky="([0-9a-f]{16})"; Max-Age=60; Path=\/; HttpOnly$/.exec(setCookie![0]!);
      expect(m).not.toBeNull();
      const cookie = `sticky="${m![1]}"`;
      const next = await many(10, 2, () => call(proxy.port, 'cookie', '/', { headers: { cookie: `other=1; ${cookie}` } }));
      for (const a of next) {
        expect(a.upstream).toBe(first.upstream);
        expect(a.headers['set-cookie']).toBeUndefined();
      }
      return first.upstream;
    });
    // 20 generated cookies don't all hash to one endpoint.
    expect(new Set(clients).size).toBeGreaterThan(1);
  });

  it('source IP: each client address always reaches the same endpoint (20 addresses x 5 requests)', async () => {
    const sources = Array.from({ length: 20 }, (_, i) => `127.0.141.${i + 1}`);
    const per = await Promise.all(
      sources.map(async (ip) => {
        const answers = await many(5, 1, () => call(proxy.port, 'source', '/', { localAddress: ip }));
        expect(new Set(answers.map((a) => a.upstream)).size).toBe(1);
        return answers[0]!.upstream;
      }),
    );
    expect(new Set(per).size).toBeGreaterThan(1);
  });

  it('query parameter: 200 values x 3 requests each stick; other parameters do not matter', async () => {
    const where = new Map<string, string>();
    await many(600, 24, async (i) => {
      const v = `v${i % 200}`;
      const a = await call(proxy.port, 'query', `/p?x=${i}&u=${v}`);
      const seen = where.get(v);
      if (seen !== undefined) expect(a.upstream).toBe(seen);
      where.set(v, a.upstream);
    });
    expect(new Set(where.values()).size).toBe(5);
  });
});
