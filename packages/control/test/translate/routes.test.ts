import { describe, expect, test } from 'vitest';
import type { ConfigObject } from '../../src/model/objects.js';
import type { ProxyIdentity } from '../../src/registry/proxy-identity.js';
import { config, configFromYaml, obj } from '../registry/config-helpers.js';
import { expectUniqueDomains, gen, input, proxy, vhost, vhosts } from './helpers.js';

const FQDN = (s: string, ns = 'default') => `${s}.${ns}.svc.cluster.local`;
const reviews = obj('Service', 'reviews', { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080 }] });
const shop = obj('Service', 'shop', {
  selector: { app: 'shop' },
  ports: [{ name: 'http', port: 80 }, { name: 'grpc', port: 9090 }, { name: 'https', port: 8443 }],
});
const vs = (name: string, spec: object, ns = 'default') => obj('VirtualService', name, spec, { namespace: ns });

function outbound(objects: ConfigObject[], p: ProxyIdentity = proxy()) {
  const routes = gen(input(config(...objects), [], p), 'route', ['virtualOutbound']);
  const rc = routes.get('virtualOutbound');
  expectUniqueDomains(rc);
  return rc;
}

/** The Envoy routes of one virtual host (`host:port`). */
const routesOf = (objects: ConfigObject[], vhostName: string, p?: ProxyIdentity): any[] => vhost(outbound(objects, p), vhostName).routes;

describe('virtual hosts and domains', () => {
  test('one virtual host per HTTP port; port 80 also answers without port; TLS ports get none', () => {
    const rc = outbound([shop]);
    expect(vhosts(rc).map((v) => v.name)).toEqual([`${FQDN('shop')}:80`, `${FQDN('shop')}:9090`]);
    expect(vhost(rc, `${FQDN('shop')}:80`).domains).toEqual([
      `${FQDN('shop')}:80`, 'shop.default.svc:80', 'shop.default:80', 'shop:80', FQDN('shop'), 'shop.default.svc', 'shop.default', 'shop',
    ]);
    expect(vhost(rc, `${FQDN('shop')}:9090`).domains).toEqual([`${FQDN('shop')}:9090`, 'shop.default.svc:9090', 'shop.default:9090', 'shop:9090']);
  });

  test('without port 80 the first HTTP port takes the bare host', () => {
    const svc = obj('Service', 'api', { selector: { app: 'api' }, ports: [{ name: 'tcp-db', port: 5432 }, { name: 'http', port: 8080 }, { name: 'http-admin', port: 8081 }] });
    const rc = outbound([svc]);
    expect(vhost(rc, `${FQDN('api')}:8080`).domains).toContain('api');
    expect(vhost(rc, `${FQDN('api')}:8081`).domains).not.toContain('api');
    expect(vhosts(rc).map((v) => v.name)).not.toContain(`${FQDN('api')}:5432`);
  });

  test('a sidecar in another namespace does not get the bare name', () => {
    const rc = outbound([reviews], proxy({ namespace: 'other' }));
    const domains = vhost(rc, `${FQDN('reviews')}:9080`).domains;
    expect(domains).toContain('reviews.default:9080');
    expect(domains).not.toContain('reviews');
    expect(domains).not.toContain('reviews:9080');
  });

  test('a domain two services could claim goes to the first only', () => {
    const foo = obj('Service', 'foo', { selector: { app: 'foo' }, ports: [{ name: 'http', port: 80 }] }, { namespace: 'bar' });
    const se = obj('ServiceEntry', 'foo-bar', { hosts: ['foo.bar'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }, { number: 81, name: 'http2', protocol: 'HTTP' }] });
    const rc = outbound([foo, se]);
    expect(vhost(rc, `${FQDN('foo', 'bar')}:80`).domains).toContain('foo.bar:80');
    expect(vhosts(rc).map((v) => v.name)).not.toContain('foo.bar:80');
    expect(vhost(rc, 'foo.bar:81').domains).toEqual(['foo.bar:81']);
  });
});

describe('VirtualService selection', () => {
  const toV2 = (name: string, hosts: string[], extra: object = {}) =>
    vs(name, { hosts, http: [{ route: [{ destination: { host: 'reviews', subset: name } }] }], ...extra });
  const clusterOf = (objects: ConfigObject[], p?: ProxyIdentity) => routesOf(objects, `${FQDN('reviews')}:9080`, p)[0].route.cluster;

  test('no VirtualService: the default route to the service cluster', () => {
    const [r] = routesOf([reviews], `${FQDN('reviews')}:9080`);
    expect(r).toMatchObject({ name: 'default', match: { prefix: '/' }, route: { cluster: `outbound|9080||${FQDN('reviews')}`, timeout: { seconds: 0 } } });
  });

  test('any host form selects; exact host beats wildcard; first in config order among equals', () => {
    expect(clusterOf([reviews, toV2('fqdn', [FQDN('reviews')])])).toBe(`outbound|9080|fqdn|${FQDN('reviews')}`);
    expect(clusterOf([reviews, toV2('dotted', ['reviews.default'])])).toBe(`outbound|9080|dotted|${FQDN('reviews')}`);
    expect(clusterOf([reviews, toV2('wild', ['*.default.svc.cluster.local']), toV2('exact', ['reviews'])])).toBe(`outbound|9080|exact|${FQDN('reviews')}`);
    expect(clusterOf([reviews, toV2('first', ['reviews']), toV2('second', ['reviews'])])).toBe(`outbound|9080|first|${FQDN('reviews')}`);
  });

  test('short names resolve in the VirtualService namespace', () => {
    const other = toV2('elsewhere', ['reviews']);
    other.metadata.namespace = 'prod';
    expect(clusterOf([reviews, other])).toBe(`outbound|9080||${FQDN('reviews')}`);
  });

  test('gateway-only VirtualServices and ones not exported to the proxy do not apply', () => {
    expect(clusterOf([reviews, toV2('gw', ['reviews'], { gateways: ['bookinfo-gateway'] })])).toBe(`outbound|9080||${FQDN('reviews')}`);
    expect(clusterOf([reviews, toV2('both', ['reviews'], { gateways: ['bookinfo-gateway', 'mesh'] })])).toBe(`outbound|9080|both|${FQDN('reviews')}`);
    const hidden = toV2('hidden', ['reviews.default.svc.cluster.local'], { exportTo: ['.'] });
    expect(clusterOf([reviews, hidden], proxy({ namespace: 'other' }))).toBe(`outbound|9080||${FQDN('reviews')}`);
    expect(clusterOf([reviews, hidden])).toBe(`outbound|9080|hidden|${FQDN('reviews')}`);
  });
});

describe('matches', () => {
  const yaml = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - name: rich
    match:
    - name: exact
      uri: { exact: /api/v1/books }
      ignoreUriCase: true
      headers:
        end-user: { exact: jason }
        X-Version: { prefix: "2." }
        x-trace: { regex: "^[a-f0-9]+$" }
        x-present: {}
      withoutHeaders:
        x-debug: {}
        x-env: { exact: prod }
      method: { exact: POST }
      authority: { prefix: reviews }
      scheme: { exact: https }
      queryParams:
        page: { exact: "2" }
        q: { regex: "^a.*" }
    - uri: { prefix: /static }
    - uri: { regex: "/items/[0-9]+" }
    route: [{ destination: { host: reviews } }]
`;
  const routes = routesOf([reviews, ...configFromYaml(yaml).objects], `${FQDN('reviews')}:9080`);

  test('each match is its own route (OR), in order, with the same action', () => {
    expect(routes.map((r) => r.name)).toEqual(['rich.exact', 'rich', 'rich']);
    expect(routes.map((r) => r.route.cluster)).toEqual(Array(3).fill(`outbound|9080||${FQDN('reviews')}`));
  });

  test('uri exact/prefix/regex and case sensitivity', () => {
    expect(routes[0].match.path).toBe('/api/v1/books');
    expect(routes[0].match.case_sensitive).toEqual({ value: false });
    expect(routes[1].match).toEqual({ prefix: '/static' });
    expect(routes[2].match).toEqual({ safe_regex: { google_re2: {}, regex: '/items/[0-9]+' } });
  });

  test('headers, withoutHeaders, method, authority, scheme, query parameters', () => {
    expect(routes[0].match.headers).toEqual([
      { name: 'end-user', string_match: { exact: 'jason' } },
      { name: 'x-version', string_match: { prefix: '2.' } },
      { name: 'x-trace', string_match: { safe_regex: { google_re2: {}, regex: '^[a-f0-9]+$' } } },
      { name: 'x-present', present_match: true },
      { name: 'x-debug', present_match: true, invert_match: true },
      // A request without x-env satisfies "without x-env: prod" (Istio's treat_missing_header_as_empty).
      { name: 'x-env', string_match: { exact: 'prod' }, invert_match: true, treat_missing_header_as_empty: true },
      { name: ':method', string_match: { exact: 'POST' } },
      { name: ':authority', string_match: { prefix: 'reviews' } },
      { name: ':scheme', string_match: { exact: 'https' } },
    ]);
    expect(routes[0].match.query_parameters).toEqual([
      { name: 'page', string_match: { exact: '2' } },
      { name: 'q', string_match: { safe_regex: { google_re2: {}, regex: '^a.*' } } },
    ]);
  });

  test('regex "*" means "present" (Istio\'s metacharacter, not RE2) in headers, withoutHeaders and query parameters', () => {
    const v = vs('star', { hosts: ['reviews'], http: [{
      match: [{ headers: { 'x-a': { regex: '*' } }, withoutHeaders: { 'x-b': { regex: '*' } }, queryParams: { q: { regex: '*' } } }],
      route: [{ destination: { host: 'reviews' } }],
    }] });
    const [r] = routesOf([reviews, v], `${FQDN('reviews')}:9080`);
    expect(r.match).toEqual({
      prefix: '/',
      headers: [{ name: 'x-a', present_match: true }, { name: 'x-b', present_match: true, invert_match: true }],
      query_parameters: [{ name: 'q', present_match: true }],
    });
  });

  test('port, sourceLabels, sourceNamespace and gateways select who the match is for', () => {
    const v = vs('sel', {
      hosts: ['shop'],
      http: [
        { name: 'on-9090', match: [{ port: 9090 }], route: [{ destination: { host: 'shop', subset: 'grpc' } }] },
        { name: 'from-productpage', match: [{ sourceLabels: { app: 'productpage' } }], route: [{ destination: { host: 'shop', subset: 'pp' } }] },
        { name: 'from-other-ns', match: [{ sourceNamespace: 'other' }], route: [{ destination: { host: 'shop', subset: 'other' } }] },
        { name: 'gw-only', match: [{ gateways: ['gw'] }], route: [{ destination: { host: 'shop', subset: 'gw' } }] },
        { name: 'rest', route: [{ destination: { host: 'shop', port: { number: 80 } } }] },
      ],
    });
    const on80 = routesOf([shop, v], `${FQDN('shop')}:80`);
    // A match left with nothing Envoy can test lets everything through; routes after it are unreachable (Istio drops them).
    expect(on80.map((r) => r.name)).toEqual(['from-productpage']);
    expect(on80[0].match).toEqual({ prefix: '/' });
    const on9090 = routesOf([shop, v], `${FQDN('shop')}:9090`);
    expect(on9090.map((r) => r.name)).toEqual(['on-9090']);
    const fromOther = routesOf([shop, v], `${FQDN('shop')}:80`, proxy({ namespace: 'other', labels: {} }));
    expect(fromOther.map((r) => r.name)).toEqual(['from-other-ns']);
    const fromNobody = routesOf([shop, v], `${FQDN('shop')}:80`, proxy({ namespace: 'third', labels: {} }));
    expect(fromNobody.map((r) => r.name)).toEqual(['rest']);
  });

  test('a VirtualService with no route for a port leaves that port its default route', () => {
    const v = vs('only80', { hosts: ['shop'], http: [{ match: [{ port: 80 }], route: [{ destination: { host: 'shop', subset: 'a' } }] }] });
    expect(routesOf([shop, v], `${FQDN('shop')}:9090`)[0]).toMatchObject({ name: 'default', route: { cluster: `outbound|9090||${FQDN('shop')}` } });
  });
});

describe('actions', () => {
  const one = (http: object, extra: ConfigObject[] = []) =>
    routesOf([reviews, shop, ...extra, vs('r', { hosts: ['reviews'], http: [http] })], `${FQDN('reviews')}:9080`)[0];

  test('weights as given, zero weights left out, a lone weighted destination becomes a plain cluster', () => {
    const r = one({ route: [
      { destination: { host: 'reviews', subset: 'v1' }, weight: 50 },
      { destination: { host: 'reviews', subset: 'v2' }, weight: 0 },
      { destination: { host: 'reviews', subset: 'v3' }, weight: 25 },
      { destination: { host: 'reviews.default.svc.cluster.local', subset: 'v4' }, weight: 25 },
    ] });
    expect(r.route.weighted_clusters.clusters.map((c: any) => [c.name, c.weight.value])).toEqual([
      [`outbound|9080|v1|${FQDN('reviews')}`, 50], [`outbound|9080|v3|${FQDN('reviews')}`, 25], [`outbound|9080|v4|${FQDN('reviews')}`, 25],
    ]);
    const single = one({ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 100 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 0 }] });
    expect(single.route.cluster).toBe(`outbound|9080|v1|${FQDN('reviews')}`);
    expect(single.route.weighted_clusters).toBeUndefined();
  });

  test('destination ports: explicit, the only port, else the routed port; unknown hosts still name a cluster', () => {
    const r = one({ route: [
      { destination: { host: 'shop', port: { number: 9090 } }, weight: 40 },
      { destination: { host: 'shop' }, weight: 30 },
      { destination: { host: 'nowhere' }, weight: 20 },
      { destination: { host: 'api.example.com' }, weight: 10 },
    ] });
    expect(r.route.weighted_clusters.clusters.map((c: any) => c.name)).toEqual([
      `outbound|9090||${FQDN('shop')}`, `outbound|9080||${FQDN('shop')}`, `outbound|9080||${FQDN('nowhere')}`, 'outbound|9080||api.example.com',
    ]);
  });

  test("no retries field: Istio's default retry policy", () => {
    expect(one({ route: [{ destination: { host: 'reviews' } }] }).route.retry_policy).toEqual({
      retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
      num_retries: { value: 2 },
      retriable_status_codes: [503],
      host_selection_retry_max_attempts: 5,
      retry_host_predicate: [{
        name: 'envoy.retry_host_predicates.previous_hosts',
        typed_config: { '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate' },
      }],
    });
  });

  test('retries: attempts, perTryTimeout, retryRemoteLocalities, retryIgnorePreviousHosts, backoff', () => {
    const r = one({ retries: { attempts: 3, perTryTimeout: '2s', retryRemoteLocalities: true, backoff: '50ms' }, route: [{ destination: { host: 'reviews' } }] });
    expect(r.route.retry_policy).toMatchObject({
      num_retries: { value: 3 },
      // retryOn left out keeps the default conditions and codes.
      retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
      retriable_status_codes: [503],
      per_try_timeout: { seconds: 2 },
      retry_priority: {
        name: 'envoy.retry_priorities.previous_priorities',
        typed_config: { '@type': 'type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig', update_frequency: 2 },
      },
      retry_back_off: { base_interval: { seconds: 0, nanos: 50_000_000 } },
    });
    expect(r.route.retry_policy.retry_host_predicate).toHaveLength(1);
    const sticky = one({ retries: { attempts: 1, retryIgnorePreviousHosts: false }, route: [{ destination: { host: 'reviews' } }] });
    expect(sticky.route.retry_policy.retry_host_predicate).toBeUndefined();
    expect(sticky.route.retry_policy.retry_back_off).toBeUndefined();
    // Only status codes: retriable-status-codes is added for them.
    expect(one({ retries: { attempts: 1, retryOn: '502,504' }, route: [{ destination: { host: 'reviews' } }] }).route.retry_policy).toMatchObject({
      retry_on: 'retriable-status-codes', retriable_status_codes: [502, 504],
    });
  });

  test('timeout: unset and 0s both disable it (0), gRPC deadlines follow it', () => {
    for (const timeout of [undefined, '0s']) {
      const r = one({ timeout, route: [{ destination: { host: 'reviews' } }] });
      expect(r.route.timeout).toEqual({ seconds: 0 });
      expect(r.route.max_grpc_timeout).toEqual({ seconds: 0 });
    }
    expect(one({ timeout: '250ms', route: [{ destination: { host: 'reviews' } }] }).route.timeout).toEqual({ seconds: 0, nanos: 250_000_000 });
  });

  test('timeout and retries (Istio semantics)', () => {
    const r = one({ timeout: '1.5s', retries: { attempts: 4, perTryTimeout: '250ms', retryOn: 'gateway-error,503,reset' }, route: [{ destination: { host: 'reviews' } }] });
    expect(r.route.timeout).toEqual({ seconds: 1, nanos: 500_000_000 });
    expect(r.route.max_grpc_timeout).toEqual({ seconds: 1, nanos: 500_000_000 });
    expect(r.route.retry_policy).toMatchObject({
      retry_on: 'gateway-error,reset,retriable-status-codes',
      retriable_status_codes: [503],
      num_retries: { value: 4 },
      per_try_timeout: { seconds: 0, nanos: 250_000_000 },
    });
    expect(one({ retries: { attempts: 0 }, route: [{ destination: { host: 'reviews' } }] }).route.retry_policy).toBeUndefined();
    expect(one({ route: [{ destination: { host: 'reviews' } }] }).route.retry_policy).toMatchObject({ num_retries: { value: 2 }, retriable_status_codes: [503] });
  });

  test('fault: delay and abort with fractional percentages; no percentage means never', () => {
    const r = one({
      fault: { delay: { fixedDelay: '7s', percentage: { value: 50.5 } }, abort: { grpcStatus: 'UNAVAILABLE', percentage: { value: 0.1 } } },
      route: [{ destination: { host: 'reviews' } }],
    });
    const fault = r.typed_per_filter_config['envoy.filters.http.fault'];
    expect(fault.delay).toEqual({ fixed_delay: { seconds: 7 }, percentage: { numerator: 505_000, denominator: 'MILLION' } });
    expect(fault.abort).toEqual({ grpc_status: 14, percentage: { numerator: 1000, denominator: 'MILLION' } });
    const never = one({ fault: { abort: { httpStatus: 503 } }, route: [{ destination: { host: 'reviews' } }] });
    expect(never.typed_per_filter_config['envoy.filters.http.fault'].abort.percentage.numerator).toBe(0);
    const legacy = one({ fault: { delay: { fixedDelay: '1s', percent: 30 } }, route: [{ destination: { host: 'reviews' } }] });
    expect(legacy.typed_per_filter_config['envoy.filters.http.fault'].delay.percentage).toEqual({ numerator: 30, denominator: 'HUNDRED' });
  });

  test('rewrite: prefix, regex, authority', () => {
    const r = one({ rewrite: { uri: '/v2/', authority: 'reviews.internal' }, route: [{ destination: { host: 'reviews' } }] });
    expect(r.route.prefix_rewrite).toBe('/v2/');
    expect(r.route.host_rewrite_literal).toBe('reviews.internal');
    const re = one({ rewrite: { uriRegexRewrite: { match: '^/old/(.*)$', rewrite: '/new/\\1' } }, route: [{ destination: { host: 'reviews' } }] });
    expect(re.route.regex_rewrite).toEqual({ pattern: { google_re2: {}, regex: '^/old/(.*)$' }, substitution: '/new/\\1' });
  });

  test('redirect ports: derivePort FROM_REQUEST_PORT is the routed port, default ports stay out of the Location', () => {
    const redirect = (r: object) => one({ redirect: r }).redirect;
    expect(redirect({ derivePort: 'FROM_REQUEST_PORT', redirectCode: 307 })).toEqual({ port_redirect: 9080, response_code: 'TEMPORARY_REDIRECT' });
    expect(redirect({ uri: '/a', derivePort: 'FROM_PROTOCOL_DEFAULT' })).toEqual({ path_redirect: '/a', response_code: 'MOVED_PERMANENTLY' });
    expect(redirect({ authority: 'x.example', port: 80 })).toEqual({ host_redirect: 'x.example', response_code: 'MOVED_PERMANENTLY' });
    expect(redirect({ scheme: 'https', port: 443 })).toEqual({ scheme_redirect: 'https', response_code: 'MOVED_PERMANENTLY' });
    expect(redirect({ scheme: 'https', port: 80, redirectCode: 303 })).toEqual({ scheme_redirect: 'https', port_redirect: 80, response_code: 'SEE_OTHER' });
    expect(redirect({ uri: '/p', redirectCode: 308 }).response_code).toBe('PERMANENT_REDIRECT');
    // On port 80 the request port is the default one.
    const v = vs('r80', { hosts: ['shop'], http: [{ redirect: { derivePort: 'FROM_REQUEST_PORT', uri: '/x' } }] });
    expect(routesOf([shop, v], `${FQDN('shop')}:80`)[0].redirect).toEqual({ path_redirect: '/x', response_code: 'MOVED_PERMANENTLY' });
  });

  test('redirect and direct response', () => {
    expect(one({ redirect: { uri: '/moved', authority: 'new.example.com', redirectCode: 302 } }).redirect).toEqual({
      path_redirect: '/moved', host_redirect: 'new.example.com', response_code: 'FOUND',
    });
    expect(one({ redirect: { uri: '/x', scheme: 'https', port: 8443 } }).redirect).toEqual({
      path_redirect: '/x', scheme_redirect: 'https', port_redirect: 8443, response_code: 'MOVED_PERMANENTLY',
    });
    const d = one({ directResponse: { status: 418, body: { string: 'teapot' } } });
    expect(d.direct_response).toEqual({ status: 418, body: { inline_string: 'teapot' } });
    expect(d.route).toBeUndefined();
  });

  test('header edits at route and destination level', () => {
    const r = one({
      headers: { request: { set: { 'x-route': 'a' }, remove: ['x-drop'] }, response: { add: { 'x-served-by': 'mesh' } } },
      route: [
        { destination: { host: 'reviews', subset: 'v1' }, weight: 50, headers: { request: { add: { 'x-dest': 'v1' } }, response: { remove: ['server'] } } },
        { destination: { host: 'reviews', subset: 'v2' }, weight: 50, headers: { request: { set: { host: 'v2.reviews' } } } },
      ],
    });
    expect(r.request_headers_to_add).toEqual([{ header: { key: 'x-route', value: 'a' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }]);
    expect(r.request_headers_to_remove).toEqual(['x-drop']);
    expect(r.response_headers_to_add).toEqual([{ header: { key: 'x-served-by', value: 'mesh' }, append_action: 'APPEND_IF_EXISTS_OR_ADD' }]);
    const [c1, c2] = r.route.weighted_clusters.clusters;
    expect(c1.request_headers_to_add).toEqual([{ header: { key: 'x-dest', value: 'v1' }, append_action: 'APPEND_IF_EXISTS_OR_ADD' }]);
    expect(c1.response_headers_to_remove).toEqual(['server']);
    expect(c2.host_rewrite_literal).toBe('v2.reviews');
    expect(c2.request_headers_to_add).toBeUndefined();

    const single = one({ headers: { request: { set: { 'x-a': '1' } } }, route: [{ destination: { host: 'reviews' }, headers: { request: { set: { 'x-b': '2' } } } }] });
    expect(single.request_headers_to_add.map((h: any) => h.header.key)).toEqual(['x-a', 'x-b']);
  });

  test('an authority in headers.request.add rewrites the host too; the route level wins over the destination', () => {
    const added = one({ headers: { request: { add: { ':authority': 'added.internal', 'x-a': '1' } } }, route: [{ destination: { host: 'reviews' } }] });
    expect(added.route.host_rewrite_literal).toBe('added.internal');
    expect(added.request_headers_to_add).toEqual([{ header: { key: 'x-a', value: '1' }, append_action: 'APPEND_IF_EXISTS_OR_ADD' }]);
    const both = one({ headers: { request: { set: { host: 'route.internal' } } }, route: [{ destination: { host: 'reviews' }, headers: { request: { set: { host: 'dest.internal' } } } }] });
    expect(both.route.host_rewrite_literal).toBe('route.internal');
    const destOnly = one({ route: [{ destination: { host: 'reviews' }, headers: { request: { set: { host: 'dest.internal' } } } }] });
    expect(destOnly.route.host_rewrite_literal).toBe('dest.internal');
  });

  test('mirrors with runtime fractions', () => {
    const r = one({
      mirror: { host: 'reviews', subset: 'v2' },
      mirrorPercentage: { value: 12.5 },
      mirrors: [{ destination: { host: 'shop', port: { number: 80 } } }],
      route: [{ destination: { host: 'reviews', subset: 'v1' } }],
    });
    expect(r.route.request_mirror_policies).toEqual([
      { cluster: `outbound|9080|v2|${FQDN('reviews')}`, runtime_fraction: { default_value: { numerator: 125_000, denominator: 'MILLION' } }, trace_sampled: { value: false } },
      // No percentage: every request (Istio writes 100/HUNDRED).
      { cluster: `outbound|80||${FQDN('shop')}`, runtime_fraction: { default_value: { numerator: 100, denominator: 'HUNDRED' } }, trace_sampled: { value: false } },
    ]);
  });

  test('mirror percentages: the deprecated integer mirrorPercent, and an explicit 0 means no mirror at all', () => {
    const mirrors = (http: object) => one({ ...http, route: [{ destination: { host: 'reviews', subset: 'v1' } }] }).route.request_mirror_policies;
    expect(mirrors({ mirror: { host: 'reviews', subset: 'v2' }, mirrorPercent: 30 })[0].runtime_fraction).toEqual({ default_value: { numerator: 30, denominator: 'HUNDRED' } });
    expect(mirrors({ mirror: { host: 'reviews', subset: 'v2' } })[0].runtime_fraction).toEqual({ default_value: { numerator: 100, denominator: 'HUNDRED' } });
    expect(mirrors({ mirror: { host: 'reviews', subset: 'v2' }, mirrorPercentage: { value: 0 } })).toBeUndefined();
    expect(mirrors({ mirror: { host: 'reviews', subset: 'v2' }, mirrorPercent: 0 })).toBeUndefined();
    const some = mirrors({ mirrors: [{ destination: { host: 'reviews', subset: 'v2' }, percentage: { value: 0 } }, { destination: { host: 'reviews', subset: 'v3' }, percentage: { value: 0.5 } }] });
    expect(some).toEqual([
      { cluster: `outbound|9080|v3|${FQDN('reviews')}`, runtime_fraction: { default_value: { numerator: 5000, denominator: 'MILLION' } }, trace_sampled: { value: false } },
    ]);
  });

  test('CORS policy as per-route config of the CORS filter', () => {
    const r = one({
      corsPolicy: {
        allowOrigins: [{ exact: 'https://a.example' }, { regex: '.*\\.b\\.example' }],
        allowMethods: ['GET', 'POST'], allowHeaders: ['x-a'], exposeHeaders: ['x-b'], maxAge: '24h', allowCredentials: true,
      },
      route: [{ destination: { host: 'reviews' } }],
    });
    expect(r.typed_per_filter_config['envoy.filters.http.cors']).toEqual({
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy',
      allow_origin_string_match: [{ exact: 'https://a.example' }, { safe_regex: { google_re2: {}, regex: '.*\\.b\\.example' } }],
      allow_methods: 'GET,POST', allow_headers: 'x-a', expose_headers: 'x-b', max_age: '86400',
      allow_credentials: { value: true },
      filter_enabled: { default_value: { numerator: 100, denominator: 'HUNDRED' } },
      forward_not_matching_preflights: { value: true },
    });
  });

  test('CORS: unmatchedPreflights IGNORE stops forwarding; allowOrigins wins over the deprecated allowOrigin', () => {
    const cors = (corsPolicy: object) => one({ corsPolicy, route: [{ destination: { host: 'reviews' } }] }).typed_per_filter_config['envoy.filters.http.cors'];
    expect(cors({ allowOrigins: [{ prefix: 'https://' }], unmatchedPreflights: 'IGNORE' })).toMatchObject({
      allow_origin_string_match: [{ prefix: 'https://' }], forward_not_matching_preflights: { value: false },
    });
    expect(cors({ allowOrigins: [{ exact: 'https://a' }], unmatchedPreflights: 'FORWARD' }).forward_not_matching_preflights).toEqual({ value: true });
    expect(cors({ allowOrigin: ['https://legacy'] }).allow_origin_string_match).toEqual([{ exact: 'https://legacy' }]);
    expect(cors({ allowOrigins: [{ exact: 'https://new' }], allowOrigin: ['https://legacy'] }).allow_origin_string_match).toEqual([{ exact: 'https://new' }]);
  });
});

describe('virtualInbound', () => {
  test('one route per app port chosen by x-trellis-inbound-port, then the first port', () => {
    const p = proxy({ ports: [{ name: 'http', containerPort: 9080 }, { name: 'admin', containerPort: 9901 }] });
    const rc = gen(input(config(reviews), [], p), 'route', ['virtualInbound']).get('virtualInbound');
    const [vh] = vhosts(rc);
    expect(vh.name).toBe('inbound|http|*');
    expect(vh.domains).toEqual(['*']);
    expect(vh.routes.map((r: any) => [r.match.headers?.[0]?.string_match.exact, r.route.cluster])).toEqual([
      ['9080', 'inbound|9080||'], ['9901', 'inbound|9901||'], [undefined, 'inbound|9080||'],
    ]);
    expect(vh.routes[0].match.headers[0].name).toBe('x-trellis-inbound-port');
    expect(vh.request_headers_to_remove).toEqual(['x-trellis-inbound-port']);
  });

  test('app ports also come from the services selecting the proxy', () => {
    const svc = obj('Service', 'productpage', { selector: { app: 'productpage' }, ports: [{ name: 'http', port: 80, targetPort: 9080 }, { name: 'http-admin', port: 81, targetPort: 7070 }] });
    const rc = gen(input(config(svc), [], proxy()), 'route', ['virtualInbound']).get('virtualInbound');
    expect(vhosts(rc)[0].routes.map((r: any) => r.route.cluster)).toEqual(['inbound|9080||', 'inbound|7070||', 'inbound|9080||']);
  });
});

describe('RDS subscriptions', () => {
  test('wildcard: both sidecar configs; unknown names are not returned', () => {
    const i = input(config(reviews));
    expect([...gen(i, 'route').keys()]).toEqual(['virtualOutbound', 'virtualInbound']);
    expect([...gen(i, 'route', ['virtualOutbound', 'nope', 'reviews:1234']).keys()]).toEqual(['virtualOutbound']);
  });
});
