import { describe, expect, test } from 'vitest';
import type { ConfigObject } from '../../src/model/objects.js';
import { config, obj } from '../registry/config-helpers.js';
import { expectUniqueDomains, gen, input, proxy, vhost } from './helpers.js';

// VirtualService delegation as Envoy routes: Istio's mergeVirtualServicesIfNeeded / mergeHTTPRoutes.

const FQDN = (s: string, ns = 'default') => `${s}.${ns}.svc.cluster.local`;
const svc = (name: string, ns = 'default') => obj('Service', name, { selector: { app: name }, ports: [{ name: 'http', port: 9080 }] }, { namespace: ns });
const reviews = svc('reviews');
const vs = (name: string, spec: object, ns = 'default') => obj('VirtualService', name, spec, { namespace: ns });
const cluster = (subset: string, host = FQDN('reviews')) => `outbound|9080|${subset}|${host}`;

/** The Envoy routes of reviews:9080 for a sidecar in `default`. */
function routes(...objects: ConfigObject[]): any[] {
  const rc = gen(input(config(reviews, ...objects), [], proxy()), 'route', ['virtualOutbound']).get('virtualOutbound');
  expectUniqueDomains(rc);
  return vhost(rc, `${FQDN('reviews')}:9080`).routes;
}

const to = (subset: string, host = 'reviews') => [{ destination: { host, subset } }];

describe('delegate routes in place of the delegating route', () => {
  const root = vs('root', { hosts: ['reviews'], http: [
    { name: 'first', match: [{ uri: { exact: '/first' } }], route: to('first') },
    { name: 'api', match: [{ uri: { prefix: '/api' } }], delegate: { name: 'api-routes' } },
    { name: 'rest', route: to('rest') },
  ] });

  test('matches are ANDed, names joined root-delegate, order kept, conflicting routes skipped', () => {
    const delegate = vs('api-routes', { http: [
      { name: 'v1', match: [{ uri: { prefix: '/api/v1' }, headers: { 'x-user': { exact: 'a' } } }], route: to('v1') },
      { name: 'exact', match: [{ name: 'm', uri: { exact: '/api/health' } }], route: to('health') },
      { name: 'other', match: [{ uri: { prefix: '/other' } }], route: to('other') },
      { name: 'regex', match: [{ uri: { regex: '/api/.*' } }], route: to('regex') },
      { route: to('fallback') },
    ] });
    const rs = routes(root, delegate);
    expect(rs.map((r) => r.name)).toEqual(['first', 'api-v1', 'api-exact.m', 'api', 'rest']);
    expect(rs.map((r) => r.route.cluster)).toEqual([cluster('first'), cluster('v1'), cluster('health'), cluster('fallback'), cluster('rest')]);
    expect(rs[1].match).toEqual({ prefix: '/api/v1', headers: [{ name: 'x-user', string_match: { exact: 'a' } }] });
    expect(rs[2].match).toEqual({ path: '/api/health' });
    // A delegate route without matches takes the root's.
    expect(rs[3].match).toEqual({ prefix: '/api' });
  });

  test("header, query and withoutHeaders conditions are unioned; a delegate can't contradict the root's", () => {
    const rootH = vs('root', { hosts: ['reviews'], http: [
      { match: [{ uri: { prefix: '/' }, headers: { 'x-env': { exact: 'prod' } }, queryParams: { debug: { exact: '0' } } }], delegate: { name: 'child' } },
    ] });
    const child = vs('child', { http: [
      { name: 'same-env', match: [{ headers: { 'x-env': { exact: 'prod' }, 'x-user': { prefix: 'a' } }, withoutHeaders: { 'x-canary': {} } }], route: to('a') },
      { name: 'other-env', match: [{ headers: { 'x-env': { exact: 'staging' } } }], route: to('b') },
      { name: 'q', match: [{ queryParams: { page: { exact: '2' } } }], route: to('c') },
    ] });
    const rs = routes(rootH, child);
    expect(rs.map((r) => r.name)).toEqual(['same-env', 'q']);
    expect(rs[0].match).toEqual({
      prefix: '/',
      headers: [
        { name: 'x-env', string_match: { exact: 'prod' } },
        { name: 'x-user', string_match: { prefix: 'a' } },
        { name: 'x-canary', present_match: true, invert_match: true },
      ],
      query_parameters: [{ name: 'debug', string_match: { exact: '0' } }],
    });
    expect(rs[1].match.query_parameters).toEqual([{ name: 'debug', string_match: { exact: '0' } }, { name: 'page', string_match: { exact: '2' } }]);
  });

  test('several root matches times several delegate matches; a delegate match that fits no root match drops its whole route', () => {
    const rootM = vs('root', { hosts: ['reviews'], http: [
      { match: [{ uri: { prefix: '/a' } }, { uri: { prefix: '/b' } }], delegate: { name: 'child' } },
    ] });
    const child = vs('child', { http: [
      { name: 'both', match: [{ uri: { prefix: '/a/x' } }, { uri: { prefix: '/b/y' } }], route: to('both') },
      { name: 'half', match: [{ uri: { prefix: '/a/z' } }, { uri: { prefix: '/c' } }], route: to('half') },
      { name: 'all', route: to('all') },
    ] });
    const rs = routes(rootM, child);
    expect(rs.map((r) => [r.name, r.match.prefix])).toEqual([['both', '/a/x'], ['both', '/b/y'], ['all', '/a'], ['all', '/b']]);
  });

  test("the root route's other fields apply where the delegate route doesn't set them", () => {
    const rootF = vs('root', { hosts: ['reviews'], http: [{
      match: [{ uri: { prefix: '/api' } }],
      delegate: { name: 'child' },
      timeout: '5s',
      retries: { attempts: 4, retryOn: '5xx' },
      fault: { abort: { httpStatus: 418, percentage: { value: 1 } } },
      headers: { request: { set: { 'x-root': '1' } } },
      corsPolicy: { allowOrigins: [{ exact: 'https://root.example' }] },
      mirror: { host: 'reviews', subset: 'shadow' },
      mirrorPercentage: { value: 10 },
      rewrite: { uri: '/v2' },
    }] });
    const child = vs('child', { http: [
      { name: 'own', match: [{ uri: { prefix: '/api/own' } }], route: to('own'), timeout: '1s', retries: { attempts: 0 }, headers: { request: { set: { 'x-child': '1' } } }, rewrite: { authority: 'child.internal' } },
      { name: 'inherits', route: to('inherits') },
    ] });
    const [own, inherits] = routes(rootF, child);
    expect(own.route).toMatchObject({ cluster: cluster('own'), timeout: { seconds: 1 }, host_rewrite_literal: 'child.internal' });
    expect(own.route.retry_policy).toBeUndefined();
    expect(own.route.prefix_rewrite).toBeUndefined();
    expect(own.request_headers_to_add).toEqual([{ header: { key: 'x-child', value: '1' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }]);
    // Fields the delegate route leaves out still come from the root.
    expect(own.typed_per_filter_config['envoy.filters.http.fault'].abort).toEqual({ http_status: 418, percentage: { numerator: 10_000, denominator: 'MILLION' } });
    expect(own.route.request_mirror_policies).toEqual([
      { cluster: cluster('shadow'), runtime_fraction: { default_value: { numerator: 100_000, denominator: 'MILLION' } }, trace_sampled: { value: false } },
    ]);

    expect(inherits.route).toMatchObject({ cluster: cluster('inherits'), timeout: { seconds: 5 }, prefix_rewrite: '/v2' });
    expect(inherits.route.retry_policy).toMatchObject({ num_retries: { value: 4 }, retry_on: '5xx' });
    expect(inherits.request_headers_to_add).toEqual([{ header: { key: 'x-root', value: '1' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }]);
    expect(inherits.typed_per_filter_config['envoy.filters.http.cors'].allow_origin_string_match).toEqual([{ exact: 'https://root.example' }]);
  });
});

describe('delegates in other namespaces', () => {
  const root = (delegate: object, extra: object = {}) => vs('root', { hosts: ['reviews'], http: [
    { match: [{ uri: { prefix: '/api' } }], delegate, ...extra },
    { name: 'rest', route: to('rest') },
  ] });
  const team = svc('reviews', 'team');

  test("short names resolve where they were written: the delegate's in its namespace, the root's in the root's", () => {
    const child = vs('child', { http: [{ name: 'c', route: [{ destination: { host: 'reviews', subset: 'v2' }, weight: 50 }, { destination: { host: 'reviews.default', subset: 'v1' }, weight: 50 }] }] }, 'team');
    const [r] = routes(team, root({ name: 'child', namespace: 'team' }, { mirror: { host: 'reviews', subset: 'shadow' } }), child);
    expect(r.route.weighted_clusters.clusters.map((c: any) => c.name)).toEqual([cluster('v2', FQDN('reviews', 'team')), cluster('v1')]);
    expect(r.route.request_mirror_policies[0].cluster).toBe(cluster('shadow'));
  });

  test('exportTo decides whether a root in another namespace may use the delegate', () => {
    const child = (exportTo?: string[]) => vs('child', { ...(exportTo ? { exportTo } : {}), http: [{ name: 'c', route: to('c') }] }, 'team');
    const names = (exportTo?: string[]) => routes(team, root({ name: 'child', namespace: 'team' }), child(exportTo)).map((r) => r.name);
    expect(names()).toEqual(['c', 'rest']);
    expect(names(['*'])).toEqual(['c', 'rest']);
    expect(names(['default'])).toEqual(['c', 'rest']);
    expect(names(['.'])).toEqual(['rest']);
    expect(names(['other'])).toEqual(['rest']);
    expect(names(['~'])).toEqual(['rest']);
  });

  test('a missing delegate, or one with hosts (not a delegate), drops the delegating route only', () => {
    expect(routes(root({ name: 'nope' })).map((r) => r.name)).toEqual(['rest']);
    const withHosts = vs('child', { hosts: ['ratings'], http: [{ name: 'c', route: to('c') }] });
    expect(routes(root({ name: 'child' }), withHosts).map((r) => r.name)).toEqual(['rest']);
  });

  test('a delegate route that delegates again (one level only) is skipped', () => {
    // Validation rejects such a delegate; translation still never follows a second level.
    const nested = vs('child', { http: [{ name: 'deeper', delegate: { name: 'grandchild' } }, { name: 'c', route: to('c') }] });
    const grandchild = vs('grandchild', { http: [{ name: 'g', route: to('g') }] });
    expect(routes(root({ name: 'child' }), nested, grandchild).map((r) => r.name)).toEqual(['c', 'rest']);
  });

  test('the same delegate under two root routes is merged with each (the delegate itself is not changed)', () => {
    const twice = vs('root', { hosts: ['reviews'], http: [
      { name: 'a', match: [{ uri: { prefix: '/a' } }], delegate: { name: 'child' }, timeout: '1s' },
      { name: 'b', match: [{ uri: { prefix: '/b' } }], delegate: { name: 'child' }, timeout: '2s' },
    ] });
    const child = vs('child', { http: [{ name: 'c', route: to('c') }] });
    const rs = routes(twice, child);
    expect(rs.map((r) => [r.name, r.match.prefix, r.route.timeout.seconds])).toEqual([['a-c', '/a', 1], ['b-c', '/b', 2]]);
    expect(child.spec.http![0]).toEqual({ name: 'c', route: to('c') });
  });
});
