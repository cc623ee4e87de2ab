import type { EnvoyJson } from '@trellis/envoy-api';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { PrioritySet } from '../../src/cluster/priority-set.js';
import { Host, HostStats } from '../../src/cluster/host.js';
import { RoundRobinLoadBalancer } from '../../src/cluster/round-robin.js';
import { compileConfig } from '../../src/config/compile.js';
import type { HealthStatus } from '../../src/config/compiled-config.js';
import { parseQuery, type RouteRequest } from '../../src/router/route-request.js';
import { routeConfig, snapshot, toCluster, vhost } from './helpers/resources.js';

function table(vhosts: EnvoyJson[], extra: EnvoyJson = {}) {
  return compileConfig(snapshot({ routes: [routeConfig('r', vhosts, extra)] })).routeConfigs.get('r')!;
}

function req(path: string, headers: IncomingHttpHeaders = {}, method = 'GET'): RouteRequest {
  const q = path.indexOf('?');
  return {
    method,
    authority: 'host',
    scheme: 'http',
    path,
    pathNoQuery: q < 0 ? path : path.slice(0, q),
    headers,
    queryParams: () => parseQuery(q < 0 ? '' : path.slice(q + 1)),
  };
}

describe('virtual host lookup', () => {
  const t = table([
    vhost('exact', ['reviews', 'reviews:9080'], []),
    vhost('suffix-long', ['*.default.svc.cluster.local'], []),
    vhost('suffix-short', ['*.local'], []),
    vhost('prefix', ['api.*'], []),
    vhost('default', ['*'], []),
  ]);
  const host = (authority: string) => t.findVirtualHost(authority)?.name;

  it('prefers exact, then the longest suffix wildcard, then prefix wildcards, then *', () => {
    expect(host('reviews')).toBe('exact');
    expect(host('Reviews:9080')).toBe('exact');
    expect(host('reviews:9081')).toBe('default');
    expect(host('ratings.default.svc.cluster.local')).toBe('suffix-long');
    expect(host('x.local')).toBe('suffix-short');
    expect(host('api.example.com')).toBe('prefix');
    expect(host('.local')).toBe('default');
    expect(host('api.')).toBe('default');
  });

  it('ignores the port when the route configuration says so', () => {
    const p = table([vhost('exact', ['reviews'], [])], { ignore_port_in_host_matching: true });
    expect(p.findVirtualHost('reviews:9080')?.name).toBe('exact');
    expect(table([vhost('exact', ['reviews'], [])]).findVirtualHost('reviews:9080')).toBeNull();
  });
});

describe('header matchers', () => {
  const routeFor = (headers: EnvoyJson[]) => table([vhost('v', ['*'], [toCluster({ prefix: '/', headers }, 'c')])]).findVirtualHost('x')!;
  const matches = (headers: EnvoyJson[], h: IncomingHttpHeaders) => routeFor(headers).findRoute(req('/', h)) !== null;

  it('inverts present values, but a missing header never matches a value matcher', () => {
    const inverted = [{ name: 'x-user', string_match: { exact: 'jason' }, invert_match: true }];
    expect(matches(inverted, { 'x-user': 'mary' })).toBe(true);
    expect(matches(inverted, { 'x-user': 'jason' })).toBe(false);
    expect(matches(inverted, {})).toBe(false);
    const missingAsEmpty = [{ name: 'x-user', string_match: { exact: 'jason' }, invert_match: true, treat_missing_header_as_empty: true }];
    expect(matches(missingAsEmpty, {})).toBe(true);
  });

  it('tests presence and absence', () => {
    expect(matches([{ name: 'x-a', present_match: true }], { 'x-a': '' })).toBe(true);
    expect(matches([{ name: 'x-a', present_match: true }], {})).toBe(false);
    expect(matches([{ name: 'x-a', present_match: false }], {})).toBe(true);
    expect(matches([{ name: 'x-a', present_match: true, invert_match: true }], {})).toBe(true);
  });

  it('matches prefix, suffix, contains, regex (whole value), ignore_case and ranges', () => {
    expect(matches([{ name: 'x', string_match: { prefix: 'ab' } }], { x: 'abc' })).toBe(true);
    expect(matches([{ name: 'x', string_match: { suffix: 'bc' } }], { x: 'abc' })).toBe(true);
    expect(matches([{ name: 'x', string_match: { contains: 'b' } }], { x: 'abc' })).toBe(true);
    expect(matches([{ name: 'x', string_match: { safe_regex: { regex: 'a.' } } }], { x: 'abc' })).toBe(false);
    expect(matches([{ name: 'x', string_match: { safe_regex: { regex: 'a.c' } } }], { x: 'abc' })).toBe(true);
    expect(matches([{ name: 'x', string_match: { exact: 'ABC', ignore_case: true } }], { x: 'abc' })).toBe(true);
    expect(matches([{ name: 'x', range_match: { start: -10, end: 0 } }], { x: '-1' })).toBe(true);
    expect(matches([{ name: 'x', range_match: { start: -10, end: 0 } }], { x: '0' })).toBe(false);
    expect(matches([{ name: 'x', range_match: { start: -10, end: 0 } }], { x: '-1x' })).toBe(false);
  });

  it('sees the pseudo-headers :method, :path and :authority', () => {
    const v = routeFor([{ name: ':authority', string_match: { exact: 'host' } }, { name: ':method', string_match: { exact: 'PUT' } }]);
    expect(v.findRoute(req('/', {}, 'PUT'))).not.toBeNull();
    expect(v.findRoute(req('/', {}, 'GET'))).toBeNull();
  });
});

describe('path matchers', () => {
  const v = table([
    vhost('v', ['*'], [
      toCluster({ path: '/exact' }, 'exact'),
      toCluster({ prefix: '/CI', case_sensitive: { value: false } }, 'ci'),
      toCluster({ path_separated_prefix: '/sep' }, 'sep'),
      toCluster({ prefix: '/' }, 'default'),
    ]),
  ]).findVirtualHost('x')!;
  const cluster = (path: string) => {
    const action = v.findRoute(req(path))!.action;
    return action.kind === 'forward' && action.clusters.kind === 'cluster' ? action.clusters.name : action.kind;
  };

  it('distinguishes exact paths, case-insensitive prefixes and separated prefixes', () => {
    expect(cluster('/exact')).toBe('exact');
    expect(cluster('/exact?x=1')).toBe('exact');
    expect(cluster('/exactly')).toBe('default');
    expect(cluster('/ci/thing')).toBe('ci');
    expect(cluster('/sep')).toBe('sep');
    expect(cluster('/sep/x')).toBe('sep');
    expect(cluster('/separate')).toBe('default');
  });
});

describe('round robin over host sets', () => {
  const host = (i: number, weight = 1, health: HealthStatus = 'HEALTHY', priority = 0) =>
    new Host('c', `10.0.0.${i}`, 80, { address: `10.0.0.${i}`, port: 80, hostname: '', weight, health, targetPort: null, metadata: {} }, { region: '', zone: '', subZone: '' }, priority, 1000, new HostStats());
  const spread = (lb: RoundRobinLoadBalancer, n: number) => {
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const h = lb.chooseHost();
      counts.set(h?.ip ?? 'none', (counts.get(h?.ip ?? 'none') ?? 0) + 1);
    }
    return Object.fromEntries([...counts].sort());
  };

  it('honours load_balancing_weight', () => {
    expect(spread(new RoundRobinLoadBalancer(new PrioritySet([host(1, 3), host(2, 1)], 50)), 400)).toEqual({ '10.0.0.1': 300, '10.0.0.2': 100 });
  });

  it('skips unhealthy hosts, uses the next priority when a level has none healthy, and panics below the threshold', () => {
    expect(spread(new RoundRobinLoadBalancer(new PrioritySet([host(1), host(2, 1, 'UNHEALTHY'), host(3)], 50)), 100)).toEqual({
      '10.0.0.1': 50,
      '10.0.0.3': 50,
    });
    expect(spread(new RoundRobinLoadBalancer(new PrioritySet([host(1, 1, 'UNHEALTHY'), host(2, 1, 'HEALTHY', 1)], 50)), 10)).toEqual({ '10.0.0.2': 10 });
    // 1 of 3 healthy is below 50%: panic routes to all of them
    const panic = new PrioritySet([host(1), host(2, 1, 'UNHEALTHY'), host(3, 1, 'UNHEALTHY')], 50);
    expect(panic.panic).toBe(true);
    expect(Object.keys(spread(new RoundRobinLoadBalancer(panic), 30))).toHaveLength(3);
    // with panic disabled, nothing healthy means no host
    expect(new RoundRobinLoadBalancer(new PrioritySet([host(1, 1, 'UNHEALTHY')], 0)).chooseHost()).toBeNull();
  });
});
