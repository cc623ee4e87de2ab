import { describe, expect, test } from 'vitest';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bookinfoConfig, localPods } from '../registry/config-helpers.js';
import { expectUniqueDomains, gen, genAll, input, must, proxy, vhost } from './helpers.js';

// Istio's Bookinfo sample as users apply it, translated for the productpage sidecar.
const FILES = ['bookinfo.yaml', 'destination-rule-all.yaml', 'virtual-service-reviews-80-20.yaml', 'virtual-service-ratings-test-abort.yaml'];

function bookinfo(...extra: string[]) {
  const cfg = bookinfoConfig(...FILES, ...extra);
  return input(cfg, localPods(cfg));
}

const REVIEWS = 'reviews.default.svc.cluster.local';

describe('Bookinfo for the productpage sidecar', () => {
  const i = bookinfo();
  const { clusters, endpoints, listeners, routes } = genAll(i);
  const outbound = routes.get('virtualOutbound');

  test('reviews: 80/20 between the v1 and v2 subset clusters', () => {
    const [route] = vhost(outbound, `${REVIEWS}:9080`).routes;
    expect(route.match).toEqual({ prefix: '/' });
    expect(route.route.weighted_clusters.clusters.map((c: any) => [c.name, c.weight.value])).toEqual([
      [`outbound|9080|v1|${REVIEWS}`, 80],
      [`outbound|9080|v2|${REVIEWS}`, 20],
    ]);
    expect(route.route.timeout).toEqual({ seconds: 0 });
  });

  test('ratings: jason gets a 100% abort with 500, everyone else v1', () => {
    const [abort, rest] = vhost(outbound, 'ratings.default.svc.cluster.local:9080').routes;
    expect(abort.match.headers).toEqual([{ name: 'end-user', string_match: { exact: 'jason' } }]);
    expect(abort.route.cluster).toBe('outbound|9080|v1|ratings.default.svc.cluster.local');
    const fault = abort.typed_per_filter_config['envoy.filters.http.fault'];
    expect(fault['@type']).toBe('type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault');
    expect(fault.abort).toEqual({ http_status: 500, percentage: { numerator: 1_000_000, denominator: 'MILLION' } });
    expect(fault.delay).toBeUndefined();
    expect(rest.match).toEqual({ prefix: '/' });
    expect(rest.typed_per_filter_config).toBeUndefined();
    expect(rest.route.cluster).toBe('outbound|9080|v1|ratings.default.svc.cluster.local');
  });

  test('details and productpage: default routes with Istio retry defaults', () => {
    const [route] = vhost(outbound, 'details.default.svc.cluster.local:9080').routes;
    expect(route.name).toBe('default');
    expect(route.route.cluster).toBe('outbound|9080||details.default.svc.cluster.local');
    expect(route.route.retry_policy).toMatchObject({
      retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
      num_retries: { value: 2 },
      retry_host_predicate: [{ name: 'envoy.retry_host_predicates.previous_hosts' }],
      host_selection_retry_max_attempts: 5,
    });
  });

  test('virtual hosts answer to every host form; the sole HTTP port also without port; no duplicates', () => {
    expect(new Set(vhost(outbound, `${REVIEWS}:9080`).domains)).toEqual(new Set([
      `${REVIEWS}:9080`, 'reviews.default.svc:9080', 'reviews.default:9080', 'reviews:9080',
      REVIEWS, 'reviews.default.svc', 'reviews.default', 'reviews',
    ]));
    expectUniqueDomains(outbound);
  });

  test('clusters: default and subset clusters per service port, over EDS', () => {
    const names = [...clusters.keys()];
    for (const s of ['details', 'ratings', 'reviews', 'productpage']) expect(names).toContain(`outbound|9080||${s}.default.svc.cluster.local`);
    for (const v of ['v1', 'v2', 'v3']) expect(names).toContain(`outbound|9080|${v}|${REVIEWS}`);
    for (const v of ['v1', 'v2', 'v2-mysql', 'v2-mysql-vm']) expect(names).toContain(`outbound|9080|${v}|ratings.default.svc.cluster.local`);
    expect(names).toContain('inbound|9080||');
    const v1 = clusters.get(`outbound|9080|v1|${REVIEWS}`) as any;
    expect(v1).toMatchObject({
      type: 'EDS',
      eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: `outbound|9080|v1|${REVIEWS}` },
      connect_timeout: { seconds: 10 },
      lb_policy: 'LEAST_REQUEST',
    });
    expect(v1.outlier_detection).toBeUndefined();
  });

  test('endpoints: each subset has its version, at the sidecar inbound port, with the app port in metadata', () => {
    const v2 = endpoints.get(`outbound|9080|v2|${REVIEWS}`) as any;
    const lb = v2.endpoints.flatMap((l: any) => l.lb_endpoints);
    expect(lb).toHaveLength(1);
    const pod = must(i.registry.workloads.find((w) => w.name === 'reviews-v2-0'));
    expect(lb[0].endpoint.address.socket_address).toEqual({ address: pod.address, port_value: 15006 });
    expect(lb[0].metadata.filter_metadata.trellis).toEqual({ fields: { target_port: { numberValue: 9080 } } });
    const all = endpoints.get(`outbound|9080||${REVIEWS}`) as any;
    expect(all.endpoints.flatMap((l: any) => l.lb_endpoints)).toHaveLength(3);
    // A subset nothing runs (ratings v2-mysql) still has its, empty, assignment.
    expect(endpoints.get('outbound|9080|v2-mysql|ratings.default.svc.cluster.local')).toEqual({ cluster_name: 'outbound|9080|v2-mysql|ratings.default.svc.cluster.local', endpoints: [] });
  });

  test('listeners: virtualOutbound on 15001 and virtualInbound on 15006, bound to the pod IP', () => {
    const out = must(listeners.get('virtualOutbound')) as any;
    expect(out.address.socket_address).toEqual({ address: '127.0.1.100', port_value: 15001 });
    const hcm = out.filter_chains[0].filters[0].typed_config;
    expect(hcm.rds.route_config_name).toBe('virtualOutbound');
    expect(hcm.http_filters.map((f: any) => f.name)).toEqual(['envoy.filters.http.fault', 'envoy.filters.http.cors', 'envoy.filters.http.router']);
    const inbound = must(listeners.get('virtualInbound')) as any;
    expect(inbound.address.socket_address.port_value).toBe(15006);
    expect(inbound.filter_chains[0].filters[0].typed_config.rds.route_config_name).toBe('virtualInbound');
  });

  test('fault-injection-details-v1: every details request aborted with 555', () => {
    const withDetails = bookinfo('fault-injection-details-v1.yaml');
    const [first] = vhost(gen(withDetails, 'route', ['virtualOutbound']).get('virtualOutbound'), 'details.default.svc.cluster.local:9080').routes;
    expect(first.typed_per_filter_config['envoy.filters.http.fault'].abort.http_status).toBe(555);
    expect(first.route.cluster).toBe('outbound|9080|v1|details.default.svc.cluster.local');
  });
});

describe('every Bookinfo VirtualService sample translates to valid Envoy config', () => {
  const dir = fileURLToPath(new URL('../../../../../shared/conformance/istio-bookinfo/', import.meta.url));
  const samples = readdirSync(dir).filter((f) => f.startsWith('virtual-service-') || f.startsWith('destination-rule-') || f.startsWith('egress-') || f.startsWith('fault-'));

  test.each(samples)('%s', (file) => {
    const cfg = bookinfoConfig('bookinfo.yaml', file);
    const i = input(cfg, localPods(cfg));
    const { routes, clusters } = genAll(i);
    expectUniqueDomains(routes.get('virtualOutbound'));
    expect(clusters.size).toBeGreaterThan(4);
    // And for a sidecar elsewhere, short names must not leak into its domains.
    const elsewhere = gen({ ...i, proxy: proxy({ namespace: 'other', labels: {} }) }, 'route', ['virtualOutbound']).get('virtualOutbound');
    expect(JSON.stringify(elsewhere)).not.toContain('"reviews:9080"');
  });
});
