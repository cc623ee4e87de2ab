import { describe, expect, test } from 'vitest';
import { TYPE_URL, decodeAny, encodeAny } from '@trellis/envoy-api';
import { jsonToStruct } from '@trellis/envoy-api';
import type { ConfigObject } from '../../src/model/objects.js';
import type { ProxyIdentity } from '../../src/registry/proxy-identity.js';
import { config, obj } from '../registry/config-helpers.js';
import { gen, grpcClient, input, must, proxy, vhost } from './helpers.js';

const FQDN = (s: string, ns = 'default') => `${s}.${ns}.svc.cluster.local`;
const MAX = 4294967295;
const reviews = obj('Service', 'reviews', { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080 }] });
const shop = obj('Service', 'shop', { selector: { app: 'shop' }, ports: [{ name: 'http', port: 80 }, { name: 'grpc', port: 9090 }] });
const dr = (name: string, spec: object, ns = 'default') => obj('DestinationRule', name, spec, { namespace: ns });

function clusters(objects: ConfigObject[], p: ProxyIdentity = proxy()) {
  return gen(input(config(...objects), [], p), 'cluster');
}
const cluster = (objects: ConfigObject[], name: string, p?: ProxyIdentity): any => must(clusters(objects, p).get(name), name);

describe('cluster names and defaults', () => {
  test('per service port a default cluster, per subset one more, plus inbound clusters', () => {
    const names = [...clusters([reviews, shop, dr('shop', { host: 'shop', subsets: [{ name: 'v1', labels: { version: 'v1' } }] })]).keys()];
    expect(names).toEqual([
      `outbound|9080||${FQDN('reviews')}`,
      `outbound|80||${FQDN('shop')}`, `outbound|80|v1|${FQDN('shop')}`,
      `outbound|9090||${FQDN('shop')}`, `outbound|9090|v1|${FQDN('shop')}`,
      'inbound|9080||',
    ]);
  });

  test("Istio's defaults: EDS over ADS, 10s connect timeout, least request, unlimited circuit breakers", () => {
    const c = cluster([reviews], `outbound|9080||${FQDN('reviews')}`);
    expect(c).toEqual({
      name: `outbound|9080||${FQDN('reviews')}`,
      type: 'EDS',
      eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: `outbound|9080||${FQDN('reviews')}` },
      connect_timeout: { seconds: 10 },
      lb_policy: 'LEAST_REQUEST',
      circuit_breakers: { thresholds: [{ max_connections: { value: MAX }, max_pending_requests: { value: MAX }, max_requests: { value: MAX }, max_retries: { value: MAX }, track_remaining: true }] },
      metadata: { filter_metadata: { istio: jsonToStruct({ services: [{ host: FQDN('reviews'), name: 'reviews', namespace: 'default' }] }) } },
    });
  });

  test('gRPC and HTTP/2 ports speak HTTP/2 upstream', () => {
    const c = cluster([shop], `outbound|9090||${FQDN('shop')}`);
    expect(c.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']).toEqual({
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      explicit_http_config: { http2_protocol_options: {} },
    });
    expect(cluster([shop], `outbound|80||${FQDN('shop')}`).typed_extension_protocol_options).toBeUndefined();
  });

  test('inbound clusters: STATIC at the pod IP, one per app port; gRPC clients and routers have none', () => {
    const p = proxy({ ips: ['127.0.1.9'], ports: [{ name: 'http', containerPort: 9080 }, { containerPort: 9901 }] });
    const c = cluster([], 'inbound|9901||', p);
    expect(c).toMatchObject({
      type: 'STATIC',
      load_assignment: { cluster_name: 'inbound|9901||', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.1.9', port_value: 9901 } } } }] }] },
    });
    expect(cluster([], 'inbound|9080||', proxy({ ips: [] })).load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address).toBe('127.0.0.1');
    expect([...clusters([reviews], grpcClient()).keys()]).toEqual([`outbound|9080||${FQDN('reviews')}`]);
    expect([...clusters([reviews], proxy({ type: 'router' })).keys()]).toEqual([`outbound|9080||${FQDN('reviews')}`]);
  });

  test('named requests get only the clusters that exist', () => {
    const i = input(config(reviews));
    expect([...gen(i, 'cluster', [`outbound|9080||${FQDN('reviews')}`, `outbound|9080|nope|${FQDN('reviews')}`, 'outbound|1||x']).keys()])
      .toEqual([`outbound|9080||${FQDN('reviews')}`]);
  });
});

describe('load balancing', () => {
  const lb = (loadBalancer: object, p?: ProxyIdentity) =>
    cluster([reviews, dr('reviews', { host: 'reviews', trafficPolicy: { loadBalancer } })], `outbound|9080||${FQDN('reviews')}`, p);

  test.each([
    [{ simple: 'ROUND_ROBIN' }, 'ROUND_ROBIN'],
    [{ simple: 'RANDOM' }, 'RANDOM'],
    [{ simple: 'LEAST_CONN' }, 'LEAST_REQUEST'],
    [{ simple: 'LEAST_REQUEST' }, 'LEAST_REQUEST'],
    [{ simple: 'UNSPECIFIED' }, 'LEAST_REQUEST'],
  ])('%j -> %s', (settings, policy) => {
    expect(lb(settings).lb_policy).toBe(policy);
  });

  test('PASSTHROUGH: original destination, balanced by the cluster itself', () => {
    const c = lb({ simple: 'PASSTHROUGH' });
    expect(c).toMatchObject({ type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED' });
    expect(c.eds_cluster_config).toBeUndefined();
  });

  test('gRPC clients get ROUND_ROBIN for anything they cannot run', () => {
    expect(lb({ simple: 'LEAST_REQUEST' }, grpcClient()).lb_policy).toBe('ROUND_ROBIN');
    expect(lb({ simple: 'RANDOM' }, grpcClient()).lb_policy).toBe('ROUND_ROBIN');
    expect(cluster([reviews], `outbound|9080||${FQDN('reviews')}`, grpcClient()).lb_policy).toBe('ROUND_ROBIN');
    expect(lb({ consistentHash: { httpHeaderName: 'x-user', maglev: {} } }, grpcClient()).lb_policy).toBe('RING_HASH');
  });

  test('consistent hash: ring hash (default ring 1024, xxHash) or maglev (table 65537)', () => {
    expect(lb({ consistentHash: { httpHeaderName: 'x-user' } })).toMatchObject({
      lb_policy: 'RING_HASH', ring_hash_lb_config: { minimum_ring_size: { value: 1024 }, hash_function: 'XX_HASH' },
    });
    expect(lb({ consistentHash: { useSourceIp: true, ringHash: { minimumRingSize: 4096 } } }).ring_hash_lb_config.minimum_ring_size).toEqual({ value: 4096 });
    expect(lb({ consistentHash: { useSourceIp: true, minimumRingSize: 2048 } }).ring_hash_lb_config.minimum_ring_size).toEqual({ value: 2048 });
    expect(lb({ consistentHash: { httpHeaderName: 'x', maglev: {} } })).toMatchObject({ lb_policy: 'MAGLEV', maglev_lb_config: { table_size: { value: 65537 } } });
    expect(lb({ consistentHash: { httpHeaderName: 'x', maglev: { tableSize: 251 } } }).maglev_lb_config).toEqual({ table_size: { value: 251 } });
  });

  test('the hash key goes on every route to the hashed cluster, and retries stay on the hashed host', () => {
    const hashRoute = (consistentHash: object, vs?: object) => {
      const objects: ConfigObject[] = [reviews, dr('reviews', { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' }, trafficPolicy: { loadBalancer: { consistentHash } } }] })];
      if (vs) objects.push(obj('VirtualService', 'reviews', vs));
      const rc = gen(input(config(...objects)), 'route', ['virtualOutbound']).get('virtualOutbound');
      return vhost(rc, `${FQDN('reviews')}:9080`).routes;
    };
    const toV1 = { hosts: ['reviews'], http: [{ match: [{ uri: { prefix: '/a' } }, { uri: { prefix: '/b' } }], route: [{ destination: { host: 'reviews', subset: 'v1' } }] }] };
    const routes = hashRoute({ httpHeaderName: 'x-user' }, toV1);
    expect(routes.map((r: any) => r.route.hash_policy)).toEqual([[{ header: { header_name: 'x-user' } }], [{ header: { header_name: 'x-user' } }]]);
    expect(routes[0].route.retry_policy.retry_host_predicate).toBeUndefined();
    expect(hashRoute({ httpCookie: { name: 'session', path: '/', ttl: '30s' } }, toV1)[0].route.hash_policy).toEqual([{ cookie: { name: 'session', path: '/', ttl: { seconds: 30 } } }]);
    expect(hashRoute({ httpCookie: { name: 'session', ttl: '0s', attributes: [{ name: 'SameSite', value: 'Strict' }, { name: 'Secure' }] } }, toV1)[0].route.hash_policy).toEqual([
      { cookie: { name: 'session', ttl: { seconds: 0 }, attributes: [{ name: 'SameSite', value: 'Strict' }, { name: 'Secure' }] } },
    ]);
    expect(hashRoute({ useSourceIp: true }, toV1)[0].route.hash_policy).toEqual([{ connection_properties: { source_ip: true } }]);
    expect(hashRoute({ httpQueryParameterName: 'user' }, toV1)[0].route.hash_policy).toEqual([{ query_parameter: { name: 'user' } }]);
    // Split between destinations, retries may go elsewhere (Istio: hashing pins retries for a lone destination only).
    const split = hashRoute({ httpHeaderName: 'x-user' }, { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 50 }, { destination: { host: 'reviews' }, weight: 50 }] }] });
    expect(split[0].route.hash_policy).toEqual([{ header: { header_name: 'x-user' } }]);
    expect(split[0].route.retry_policy.retry_host_predicate).toHaveLength(1);
    // The default route goes to the default cluster, which has no consistent hash here.
    expect(hashRoute({ httpHeaderName: 'x-user' })[0].route.hash_policy).toBeUndefined();
  });
});

describe('outlier detection', () => {
  const od = (outlierDetection: object) =>
    cluster([reviews, dr('reviews', { host: 'reviews', trafficPolicy: { outlierDetection } })], `outbound|9080||${FQDN('reviews')}`);

  test("Istio's defaults when only some fields are set; success-rate ejection off; panic threshold 0", () => {
    const c = od({ consecutive5xxErrors: 7 });
    expect(c.outlier_detection).toEqual({
      consecutive_5xx: { value: 7 },
      enforcing_consecutive_5xx: { value: 100 },
      interval: { seconds: 10 },
      base_ejection_time: { seconds: 30 },
      max_ejection_percent: { value: 10 },
      always_eject_one_host: { value: true },
      enforcing_success_rate: { value: 0 },
    });
    expect(c.common_lb_config).toEqual({ healthy_panic_threshold: { value: 0 } });
  });

  test('maxEjectionPercent never blocks the first ejection: always_eject_one_host on every outlier_detection, as a real Envoy proto field', () => {
    for (const spec of [{}, { maxEjectionPercent: 50 }, { consecutiveGatewayErrors: 2, maxEjectionPercent: 1 }]) {
      const c = od(spec);
      expect(c.outlier_detection.always_eject_one_host).toEqual({ value: true });
      // The strict encoder refuses fields the Cluster proto lacks; the decoded message keeps the flag.
      const decoded = decodeAny(encodeAny(TYPE_URL.cluster, c)) as any;
      expect(decoded.outlier_detection.always_eject_one_host).toEqual({ value: true });
    }
  });

  test('explicit fields, gateway errors, 0 disables 5xx ejection, minHealthPercent', () => {
    const c = od({ consecutive5xxErrors: 0, consecutiveGatewayErrors: 3, interval: '1s', baseEjectionTime: '2m', maxEjectionPercent: 50, minHealthPercent: 40 });
    expect(c.outlier_detection).toMatchObject({
      consecutive_5xx: { value: 0 },
      enforcing_consecutive_5xx: { value: 0 },
      consecutive_gateway_failure: { value: 3 },
      enforcing_consecutive_gateway_failure: { value: 100 },
      interval: { seconds: 1 },
      base_ejection_time: { seconds: 120 },
      max_ejection_percent: { value: 50 },
    });
    expect(c.common_lb_config.healthy_panic_threshold).toEqual({ value: 40 });
  });

  test('the deprecated consecutiveErrors counts gateway errors only', () => {
    expect(od({ consecutiveErrors: 4 }).outlier_detection).toMatchObject({
      consecutive_gateway_failure: { value: 4 }, enforcing_consecutive_gateway_failure: { value: 100 }, enforcing_consecutive_5xx: { value: 0 },
    });
  });
});

describe('connection pool', () => {
  test('limits go to circuit breakers, per-connection settings to the HTTP protocol options', () => {
    const c = cluster([reviews, dr('reviews', { host: 'reviews', trafficPolicy: { connectionPool: {
      tcp: { maxConnections: 100, connectTimeout: '250ms', tcpKeepalive: { probes: 3, time: '7200s', interval: '75s' }, maxConnectionDuration: '1h' },
      http: { http1MaxPendingRequests: 10, http2MaxRequests: 1000, maxRequestsPerConnection: 1, maxRetries: 3, idleTimeout: '30s' },
    } } })], `outbound|9080||${FQDN('reviews')}`);
    expect(c.connect_timeout).toEqual({ seconds: 0, nanos: 250_000_000 });
    expect(c.circuit_breakers.thresholds[0]).toEqual({
      max_connections: { value: 100 }, max_pending_requests: { value: 10 }, max_requests: { value: 1000 }, max_retries: { value: 3 }, track_remaining: true,
    });
    expect(c.upstream_connection_options).toEqual({ tcp_keepalive: { keepalive_probes: { value: 3 }, keepalive_time: { value: 7200 }, keepalive_interval: { value: 75 } } });
    expect(c.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']).toEqual({
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      explicit_http_config: { http_protocol_options: {} },
      common_http_protocol_options: { idle_timeout: { seconds: 30 }, max_requests_per_connection: { value: 1 }, max_connection_duration: { seconds: 3600 } },
    });
  });

  test('h2UpgradePolicy UPGRADE and useClientProtocol pick the upstream protocol', () => {
    const opts = (http: object) => cluster([reviews, dr('reviews', { host: 'reviews', trafficPolicy: { connectionPool: { http } } })], `outbound|9080||${FQDN('reviews')}`)
      .typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
    expect(opts({ h2UpgradePolicy: 'UPGRADE', maxConcurrentStreams: 50 }).explicit_http_config).toEqual({ http2_protocol_options: { max_concurrent_streams: { value: 50 } } });
    expect(opts({ useClientProtocol: true }).use_downstream_protocol_config).toEqual({ http_protocol_options: {}, http2_protocol_options: {} });
  });
});

describe('policy merging (Istio MergeTrafficPolicy)', () => {
  const rule = dr('shop', {
    host: 'shop',
    trafficPolicy: {
      loadBalancer: { simple: 'ROUND_ROBIN' },
      outlierDetection: { consecutive5xxErrors: 2 },
      connectionPool: { tcp: { maxConnections: 10 } },
      portLevelSettings: [{ port: { number: 9090 }, connectionPool: { tcp: { maxConnections: 90 } } }],
    },
    subsets: [
      { name: 'v1', labels: { version: 'v1' } },
      { name: 'v2', labels: { version: 'v2' }, trafficPolicy: {
        loadBalancer: { simple: 'RANDOM' },
        portLevelSettings: [{ port: { number: 80 }, loadBalancer: { simple: 'LEAST_REQUEST' } }],
      } },
    ],
  });
  const all = clusters([shop, rule]);
  const c = (name: string): any => must(all.get(name), name);

  test('rule level applies to every cluster; a port-level setting replaces the rule level on its port, unset fields falling to defaults', () => {
    expect(c(`outbound|80||${FQDN('shop')}`)).toMatchObject({ lb_policy: 'ROUND_ROBIN', outlier_detection: { consecutive_5xx: { value: 2 } } });
    expect(c(`outbound|80||${FQDN('shop')}`).circuit_breakers.thresholds[0].max_connections).toEqual({ value: 10 });
    for (const name of [`outbound|9090||${FQDN('shop')}`, `outbound|9090|v1|${FQDN('shop')}`]) {
      const on9090 = c(name);
      expect(on9090.circuit_breakers.thresholds[0].max_connections).toEqual({ value: 90 });
      // Not inherited from the rule level: Istio's defaults instead.
      expect(on9090.lb_policy).toBe('LEAST_REQUEST');
      expect(on9090.outlier_detection).toBeUndefined();
    }
  });

  test('a subset overrides field by field; its own port-level setting replaces everything on that port', () => {
    const v2on9090 = c(`outbound|9090|v2|${FQDN('shop')}`);
    expect(v2on9090.lb_policy).toBe('RANDOM');
    expect(v2on9090.circuit_breakers.thresholds[0].max_connections).toEqual({ value: 90 });
    expect(v2on9090.outlier_detection).toBeUndefined();
    const v2on80 = c(`outbound|80|v2|${FQDN('shop')}`);
    expect(v2on80.lb_policy).toBe('LEAST_REQUEST');
    expect(v2on80.outlier_detection).toBeUndefined();
    expect(v2on80.circuit_breakers.thresholds[0].max_connections).toEqual({ value: MAX });
    expect(c(`outbound|80|v1|${FQDN('shop')}`)).toMatchObject({ lb_policy: 'ROUND_ROBIN', outlier_detection: { consecutive_5xx: { value: 2 } } });
    expect(c(`outbound|80|v1|${FQDN('shop')}`).circuit_breakers.thresholds[0].max_connections).toEqual({ value: 10 });
  });

  test('a subset keeps the rule-level fields it does not set', () => {
    const keep = clusters([shop, dr('shop', {
      host: 'shop',
      trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' }, outlierDetection: { consecutive5xxErrors: 2 }, retryBudget: { percent: 5 } },
      subsets: [{ name: 'v1', labels: { version: 'v1' }, trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } }],
    })]);
    const v1: any = must(keep.get(`outbound|80|v1|${FQDN('shop')}`));
    expect(v1).toMatchObject({ lb_policy: 'RANDOM', outlier_detection: { consecutive_5xx: { value: 2 } } });
    expect(v1.circuit_breakers.thresholds[0].retry_budget).toEqual({ budget_percent: { value: 5 }, min_retry_concurrency: { value: 3 } });
  });
});

describe('the rest of trafficPolicy, field by field (Istio cluster_traffic_policy.go)', () => {
  const withPolicy = (trafficPolicy: object, p?: ProxyIdentity, objects: ConfigObject[] = [reviews]): any =>
    cluster([...objects, dr('reviews', { host: 'reviews', trafficPolicy })], `outbound|9080||${FQDN('reviews')}`, p);
  const lbOnly = (loadBalancer: object, p?: ProxyIdentity) => withPolicy({ loadBalancer }, p);

  test('warmup: slow start on least request (also the default) and round robin', () => {
    const full = { slow_start_config: { slow_start_window: { seconds: 30 }, aggression: { default_value: 2, runtime_key: '(' }, min_weight_percent: { value: 25 } } };
    expect(lbOnly({ warmup: { duration: '30s', aggression: 2, minimumPercent: 25 } })).toMatchObject({ lb_policy: 'LEAST_REQUEST', least_request_lb_config: full });
    expect(lbOnly({ simple: 'ROUND_ROBIN', warmup: { duration: '30s' } }).round_robin_lb_config).toEqual({
      slow_start_config: { slow_start_window: { seconds: 30 }, aggression: { default_value: 1, runtime_key: '(' }, min_weight_percent: { value: 10 } },
    });
    expect(lbOnly({ simple: 'LEAST_CONN', warmupDurationSecs: '45s' }).least_request_lb_config).toEqual({ slow_start_config: { slow_start_window: { seconds: 45 } } });
    // warmup wins over the older warmupDurationSecs.
    expect(lbOnly({ simple: 'ROUND_ROBIN', warmupDurationSecs: '45s', warmup: { duration: '5s' } }).round_robin_lb_config.slow_start_config.slow_start_window).toEqual({ seconds: 5 });
  });

  test('warmup is not applied where Envoy has no slow start (random, consistent hash) nor for gRPC clients', () => {
    const random = lbOnly({ simple: 'RANDOM', warmupDurationSecs: '30s' });
    expect(random.lb_policy).toBe('RANDOM');
    expect(Object.keys(random).filter((k) => k.endsWith('_lb_config'))).toEqual([]);
    const hashed = lbOnly({ consistentHash: { httpHeaderName: 'x' }, warmupDurationSecs: '30s' });
    expect(hashed.least_request_lb_config).toBeUndefined();
    expect(hashed.ring_hash_lb_config).toBeDefined();
    const grpc = lbOnly({ simple: 'ROUND_ROBIN', warmupDurationSecs: '30s' }, grpcClient());
    expect(grpc).toMatchObject({ lb_policy: 'ROUND_ROBIN' });
    expect(grpc.round_robin_lb_config).toBeUndefined();
  });

  test('retryBudget: a circuit-breaker retry budget (Istio defaults 0.2 percent, 3 concurrent retries)', () => {
    expect(withPolicy({ retryBudget: {} }).circuit_breakers.thresholds[0].retry_budget).toEqual({ budget_percent: { value: 0.2 }, min_retry_concurrency: { value: 3 } });
    expect(withPolicy({ retryBudget: { percent: 25, minRetryConcurrency: 7 } }).circuit_breakers.thresholds[0].retry_budget).toEqual({
      budget_percent: { value: 25 }, min_retry_concurrency: { value: 7 },
    });
    expect(withPolicy({ loadBalancer: { simple: 'RANDOM' } }).circuit_breakers.thresholds[0].retry_budget).toBeUndefined();
  });

  test('idle timeout: HTTP idleTimeout, else the TCP one; 0s is passed on (disabled)', () => {
    const common = (connectionPool: object) =>
      withPolicy({ connectionPool }).typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].common_http_protocol_options;
    expect(common({ tcp: { idleTimeout: '90s' } })).toEqual({ idle_timeout: { seconds: 90 } });
    expect(common({ tcp: { idleTimeout: '90s' }, http: { idleTimeout: '15s' } })).toEqual({ idle_timeout: { seconds: 15 } });
    expect(common({ tcp: { idleTimeout: '0s' } })).toEqual({ idle_timeout: { seconds: 0 } });
  });

  test('h2UpgradePolicy: DO_NOT_UPGRADE keeps HTTP/1.1 on HTTP ports, gRPC ports speak HTTP/2 regardless; max concurrent streams on HTTP/2', () => {
    const options = (name: string, http: object): any =>
      cluster([shop, dr('shop', { host: 'shop', trafficPolicy: { connectionPool: { http } } })], name).typed_extension_protocol_options?.['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
    expect(options(`outbound|80||${FQDN('shop')}`, { h2UpgradePolicy: 'DO_NOT_UPGRADE' })).toBeUndefined();
    expect(options(`outbound|9090||${FQDN('shop')}`, { h2UpgradePolicy: 'DO_NOT_UPGRADE', maxConcurrentStreams: 8 }).explicit_http_config).toEqual({
      http2_protocol_options: { max_concurrent_streams: { value: 8 } },
    });
    expect(options(`outbound|80||${FQDN('shop')}`, { h2UpgradePolicy: 'UPGRADE' }).explicit_http_config).toEqual({ http2_protocol_options: {} });
    expect(options(`outbound|80||${FQDN('shop')}`, { maxRequestsPerConnection: 1 })).toMatchObject({
      explicit_http_config: { http_protocol_options: {} }, common_http_protocol_options: { max_requests_per_connection: { value: 1 } },
    });
  });

  test('outlier detection: local-origin errors split out and counted', () => {
    expect(withPolicy({ outlierDetection: { splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 4, consecutiveGatewayErrors: 0 } }).outlier_detection).toEqual({
      enforcing_success_rate: { value: 0 },
      consecutive_5xx: { value: 5 },
      enforcing_consecutive_5xx: { value: 100 },
      consecutive_gateway_failure: { value: 0 },
      enforcing_consecutive_gateway_failure: { value: 0 },
      interval: { seconds: 10 },
      base_ejection_time: { seconds: 30 },
      max_ejection_percent: { value: 10 },
      always_eject_one_host: { value: true },
      split_external_local_origin_errors: true,
      consecutive_local_origin_failure: { value: 4 },
      enforcing_consecutive_local_origin_failure: { value: 100 },
      enforcing_local_origin_success_rate: { value: 0 },
    });
  });

  test('tls: SIMPLE originates TLS (rule, subset or port level); DISABLE, MUTUAL and ISTIO_MUTUAL stay plaintext', () => {
    const simple = withPolicy({ tls: { mode: 'SIMPLE', sni: 'reviews.example' } });
    expect(simple.transport_socket).toEqual({
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        sni: 'reviews.example',
        // no caCertificates: the public roots, as current Istio verifies (VERIFY_CERTIFICATE_AT_CLIENT)
        common_tls_context: { validation_context: { system_root_certs: {} } },
      },
    });
    for (const mode of ['DISABLE', 'MUTUAL', 'ISTIO_MUTUAL']) expect(withPolicy({ tls: { mode } }).transport_socket).toBeUndefined();
    // caCertificates turns on verification, with the SANs matched exactly; `system` is the bundled roots.
    const verified = withPolicy({ tls: { mode: 'SIMPLE', caCertificates: '/etc/certs/ca.pem', subjectAltNames: ['reviews.example', 'spiffe://x/y'] } });
    expect(verified.transport_socket.typed_config.common_tls_context).toEqual({
      validation_context: { trusted_ca: { filename: '/etc/certs/ca.pem' }, match_subject_alt_names: [{ exact: 'reviews.example' }, { exact: 'spiffe://x/y' }] },
    });
    expect(withPolicy({ tls: { mode: 'SIMPLE', caCertificates: 'system' } }).transport_socket.typed_config.common_tls_context).toEqual({ validation_context: { system_root_certs: {} } });
    expect(withPolicy({ tls: { mode: 'SIMPLE', insecureSkipVerify: true } }).transport_socket.typed_config.common_tls_context).toEqual({});
    expect(withPolicy({ tls: { mode: 'SIMPLE', subjectAltNames: ['x'] } }).transport_socket.typed_config.common_tls_context).toEqual({
      validation_context: { system_root_certs: {}, match_subject_alt_names: [{ exact: 'x' }] },
    });
    // Real proto fields: the strict encoder refuses anything the UpstreamTlsContext lacks.
    expect(() => encodeAny(TYPE_URL.cluster, verified)).not.toThrow();
    const bySubset = clusters([reviews, dr('reviews', { host: 'reviews', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } }, subsets: [{ name: 'v1', labels: {}, trafficPolicy: { tls: { mode: 'SIMPLE' } } }] })]);
    expect((bySubset.get(`outbound|9080|v1|${FQDN('reviews')}`) as any).transport_socket.typed_config.sni).toBe(FQDN('reviews'));
    expect((bySubset.get(`outbound|9080||${FQDN('reviews')}`) as any).transport_socket).toBeUndefined();
  });
});

describe('which DestinationRule applies', () => {
  const lbOf = (objects: ConfigObject[], p?: ProxyIdentity) => cluster([reviews, ...objects], `outbound|9080||${FQDN('reviews')}`, p).lb_policy;
  const rule = (name: string, host: string, simple: string, ns = 'default', extra: object = {}) =>
    dr(name, { host, trafficPolicy: { loadBalancer: { simple } }, ...extra }, ns);

  test('short hosts resolve in the rule namespace', () => {
    expect(lbOf([rule('r', 'reviews', 'RANDOM')])).toBe('RANDOM');
    expect(lbOf([rule('r', 'reviews', 'RANDOM', 'prod')])).toBe('LEAST_REQUEST');
    expect(lbOf([rule('r', 'reviews.default.svc.cluster.local', 'RANDOM', 'prod')])).toBe('RANDOM');
  });

  test('exact host beats wildcard; the proxy namespace beats the service namespace', () => {
    expect(lbOf([rule('w', '*.default.svc.cluster.local', 'RANDOM'), rule('e', 'reviews', 'ROUND_ROBIN')])).toBe('ROUND_ROBIN');
    expect(lbOf([rule('w', '*.svc.cluster.local', 'RANDOM'), rule('w2', '*.default.svc.cluster.local', 'ROUND_ROBIN')])).toBe('ROUND_ROBIN');
    const mine = rule('mine', FQDN('reviews'), 'RANDOM', 'client');
    expect(lbOf([rule('theirs', 'reviews', 'ROUND_ROBIN'), mine], proxy({ namespace: 'client' }))).toBe('RANDOM');
    expect(lbOf([rule('theirs', 'reviews', 'ROUND_ROBIN'), mine])).toBe('ROUND_ROBIN');
  });

  test('exportTo and workloadSelector limit who a rule applies to', () => {
    const hidden = rule('h', FQDN('reviews'), 'RANDOM', 'default', { exportTo: ['.'] });
    expect(lbOf([hidden])).toBe('RANDOM');
    expect(lbOf([hidden], proxy({ namespace: 'other' }))).toBe('LEAST_REQUEST');
    const selected = rule('s', 'reviews', 'RANDOM', 'default', { workloadSelector: { matchLabels: { app: 'productpage' } } });
    expect(lbOf([selected])).toBe('RANDOM');
    expect(lbOf([selected], proxy({ labels: { app: 'other' } }))).toBe('LEAST_REQUEST');
  });
});

describe('TLS origination and ServiceEntries', () => {
  const google = obj('ServiceEntry', 'googleapis', {
    hosts: ['www.googleapis.com'],
    ports: [{ number: 80, name: 'http', protocol: 'HTTP' }, { number: 443, name: 'https', protocol: 'HTTPS' }],
    resolution: 'DNS',
  });
  const tls = dr('googleapis', { host: 'www.googleapis.com', trafficPolicy: { portLevelSettings: [{ port: { number: 443 }, tls: { mode: 'SIMPLE' } }] } });

  test('DNS entries: STRICT_DNS on the host itself; SIMPLE TLS with SNI on the TLS port only', () => {
    const all = clusters([google, tls]);
    const https: any = must(all.get('outbound|443||www.googleapis.com'));
    expect(https).toMatchObject({
      type: 'STRICT_DNS',
      dns_lookup_family: 'V4_ONLY',
      load_assignment: { cluster_name: 'outbound|443||www.googleapis.com', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'www.googleapis.com', port_value: 443 } } } }] }] },
      transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', sni: 'www.googleapis.com', common_tls_context: {} } },
    });
    expect((all.get('outbound|80||www.googleapis.com') as any).transport_socket).toBeUndefined();
    expect(cluster([google, tls], 'outbound|443||www.googleapis.com', grpcClient()).transport_socket).toBeUndefined();
  });

  test('DNS entries with endpoints resolve those; DNS_ROUND_ROBIN keeps one host', () => {
    const se = (resolution: string) => obj('ServiceEntry', 'db', {
      hosts: ['db.example.com'], ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }], resolution,
      endpoints: [{ address: 'db-1.example.com' }, { address: 'db-2.example.com', ports: { tcp: 6432 } }],
    });
    const hosts = (c: any) => c.load_assignment.endpoints.flatMap((l: any) => l.lb_endpoints.map((e: any) => e.endpoint.address.socket_address));
    expect(hosts(cluster([se('DNS')], 'outbound|5432||db.example.com'))).toEqual([{ address: 'db-1.example.com', port_value: 5432 }, { address: 'db-2.example.com', port_value: 6432 }]);
    const logical = cluster([se('DNS_ROUND_ROBIN')], 'outbound|5432||db.example.com');
    expect(logical.type).toBe('LOGICAL_DNS');
    expect(hosts(logical)).toEqual([{ address: 'db-1.example.com', port_value: 5432 }]);
  });

  test('STATIC and NONE-with-endpoints use EDS; NONE without endpoints is an original-destination cluster', () => {
    const withEndpoints = (resolution: string) => obj('ServiceEntry', 'vm', { hosts: ['vm.internal'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution, endpoints: [{ address: '10.0.0.1' }] });
    expect(cluster([withEndpoints('STATIC')], 'outbound|80||vm.internal').type).toBe('EDS');
    expect(cluster([withEndpoints('NONE')], 'outbound|80||vm.internal').type).toBe('EDS');
    const passthrough = obj('ServiceEntry', 'wild', { hosts: ['*.example.com'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], resolution: 'NONE' });
    expect(cluster([passthrough], 'outbound|443||*.example.com')).toMatchObject({ type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED' });
    expect(clusters([passthrough], grpcClient()).has('outbound|443||*.example.com')).toBe(false);
  });
});
