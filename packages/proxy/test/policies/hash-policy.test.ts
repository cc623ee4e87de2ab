import { describe, expect, it } from 'vitest';
import { CLUSTER_STAT_NAMES, ClusterStats } from '../../src/cluster/cluster-stats.js';
import { computeRequestHash, cookieValue, type HashMethod, type HashableRequest } from '../../src/cluster/hash/hash-policy.js';
import { xxhash64 } from '../../src/cluster/hash/xxhash64.js';
import { parseQuery } from '../../src/router/route-request.js';

function req(headers: Record<string, string>, path = '/', remoteAddress = '10.1.2.3'): HashableRequest {
  return {
    method: 'GET',
    authority: headers.host ?? 'svc',
    scheme: 'http',
    path,
    pathNoQuery: path.split('?')[0]!,
    headers,
    remoteAddress,
    queryParams: () => parseQuery(path.includes('?') ? path.slice(path.indexOf('?') + 1) : ''),
  };
}

const rotl1 = (h: bigint) => ((h << 1n) | (h >> 63n)) & 0xffffffffffffffffn;
const header = (name: string, terminal = false): HashMethod => ({ kind: 'header', name, rewrite: null, terminal });

describe('request hashing (Envoy HashPolicyImpl)', () => {
  it('hashes a header value with xxHash64; a missing header gives no hash', () => {
    expect(computeRequestHash({ methods: [header('x-user')] }, req({ 'x-user': 'alice' })).hash).toBe(xxhash64('alice'));
    expect(computeRequestHash({ methods: [header('x-user')] }, req({})).hash).toBeNull();
    expect(computeRequestHash({ methods: [header(':authority')] }, req({ host: 'a.b:80' })).hash).toBe(xxhash64('a.b:80'));
  });

  it('folds several methods as rotl(previous, 1) ^ next; a terminal method that produced a hash ends it', () => {
    const both = computeRequestHash({ methods: [header('a'), header('b')] }, req({ a: '1', b: '2' })).hash;
    expect(both).toBe(rotl1(xxhash64('1')) ^ xxhash64('2'));
    const stop = computeRequestHash({ methods: [header('a', true), header('b')] }, req({ a: '1', b: '2' })).hash;
    expect(stop).toBe(xxhash64('1'));
    // A terminal method without a hash does not stop the others.
    const skip = computeRequestHash({ methods: [header('a', true), header('b')] }, req({ b: '2' })).hash;
    expect(skip).toBe(xxhash64('2'));
  });

  it('source IP, query parameter and a header rewritten by regex', () => {
    expect(computeRequestHash({ methods: [{ kind: 'source_ip', terminal: false }] }, req({})).hash).toBe(xxhash64('10.1.2.3'));
    expect(computeRequestHash({ methods: [{ kind: 'query_parameter', name: 'u', terminal: false }] }, req({}, '/p?x=1&u=bob')).hash).toBe(xxhash64('bob'));
    expect(computeRequestHash({ methods: [{ kind: 'query_parameter', name: 'u', terminal: false }] }, req({}, '/p?x=1')).hash).toBeNull();
    const rewrite: HashMethod = { kind: 'header', name: ':path', rewrite: { pattern: /\/v\d+\//g, substitution: '/' }, terminal: false };
    expect(computeRequestHash({ methods: [rewrite] }, req({}, '/v1/items')).hash).toBe(xxhash64('/items'));
  });

  it('cookie: present is hashed (quotes stripped); missing with a ttl generates one and a Set-Cookie; missing without ttl: none', () => {
    const cookie = (ttlSeconds: number | null): HashMethod => ({ kind: 'cookie', name: 'sticky', path: '/app', ttlSeconds, attributes: '; SameSite=Lax', terminal: false });
    expect(computeRequestHash({ methods: [cookie(60)] }, req({ cookie: 'a=1; sticky="abc"; b=2' }))).toEqual({ hash: xxhash64('abc'), setCookie: null });
    const gen = computeRequestHash({ methods: [cookie(60)] }, req({}));
    const m = /^sticky="([0-9a-f]{16})"; Max-Age=60; Path=\/app; SameSite=Lax; HttpOnly$/.exec(gen.setCookie ?? '');
    expect(m).not.toBeNull();
    expect(gen.hash).toBe(xxhash64(m![1]!));
    // ttl 0: a session cookie (no Max-Age)
    expect(computeRequestHash({ methods: [cookie(0)] }, req({})).setCookie).toMatch(/^sticky="[0-9a-f]{16}"; Path=\/app; SameSite=Lax; HttpOnly$/);
    expect(computeRequestHash({ methods: [cookie(null)] }, req({}))).toEqual({ hash: null, setCookie: null });
  });

  it('reads cookie values as Envoy does', () => {
    expect(cookieValue('a=1; b=2', 'b')).toBe('2');
    expect(cookieValue('ab=1; b=2', 'b')).toBe('2');
    expect(cookieValue(' b = "x y" ', 'b')).toBe('x y');
    expect(cookieValue('a=1', 'b')).toBeNull();
    expect(cookieValue(['a=1', 'b=3'], 'b')).toBe('3');
    expect(cookieValue('b', 'b')).toBeNull();
  });
});

describe('cluster stats', () => {
  it('/stats prints every counter and gauge of ClusterStats under an Envoy name', () => {
    const fields = Object.keys(new ClusterStats()).sort();
    expect(CLUSTER_STAT_NAMES.map(([, f]) => f).sort()).toEqual(fields);
    const names = CLUSTER_STAT_NAMES.map(([n]) => n);
    expect(new Set(names).size).toBe(names.length);
  });
});
