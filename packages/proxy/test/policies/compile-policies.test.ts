import type { EnvoyJson } from '@trellis/envoy-api';
import { describe, expect, it } from 'vitest';
import { circuitBreakers, httpProtocolOptions, loadBalancing, outlierDetection, tcpKeepalive, upstreamTls } from '../../../control/src/translate/cluster-policy.js';
import { hashPolicy } from '../../../control/src/translate/route-action.js';
import { compileConfig } from '../../src/config/compile.js';
import type { ClusterConfig } from '../../src/config/compiled-config.js';
import { ConfigRejected } from '../../src/config/raw-snapshot.js';
import { cla, edsCluster, listener, routeConfig, snapshot, toCluster, vhost } from '../dataplane/helpers/resources.js';

// The sidecar compiles exactly what the control plane's translate/cluster-policy.ts and route-action.ts
// emit for Istio's DestinationRule fields (their functions build the input here), with Envoy's defaults.

function compileCluster(extra: EnvoyJson, type: 'EDS' | 'ORIGINAL_DST' = 'EDS'): ClusterConfig {
  const c = type === 'EDS' ? edsCluster('c', { extra }) : { name: 'c', type: 'ORIGINAL_DST', connect_timeout: { seconds: 1 }, ...extra };
  const raw = snapshot({ clusters: [c], endpoints: type === 'EDS' ? [cla('c', [{ port: 8080 }])] : [] });
  return compileConfig(raw).clusters.get('c')!;
}

function rejectionOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigRejected) return e.message;
    throw e;
  }
  throw new Error('expected a rejection');
}

function compileRoute(action: EnvoyJson) {
  const raw = snapshot({
    listeners: [listener('virtualOutbound', 15001, 'r')],
    routes: [routeConfig('r', [vhost('v', ['v'], [toCluster({ prefix: '/' }, 'c', action)])])],
    clusters: [edsCluster('c')],
  });
  const route = compileConfig(raw).routeConfigs.get('r')!.findVirtualHost('v')!;
  return route;
}

describe('load balancer settings', () => {
  it("Istio's simple policies and consistent hashes, with Envoy's defaults", () => {
    expect(compileCluster(loadBalancing({ simple: 'LEAST_REQUEST' }, 'sidecar').fields).lbConfig).toEqual({
      kind: 'least_request',
      choiceCount: 2,
      activeRequestBias: 1,
      fullScan: false,
      slowStart: null,
    });
    expect(compileCluster(loadBalancing({ simple: 'RANDOM' }, 'sidecar').fields).lbConfig).toEqual({ kind: 'random' });
    const ring = compileCluster(loadBalancing({ consistentHash: { httpHeaderName: 'x-user', ringHash: { minimumRingSize: 2048 } } }, 'sidecar').fields);
    expect(ring.lbPolicy).toBe('RING_HASH');
    expect(ring.lbConfig).toEqual({ kind: 'ring_hash', minimumRingSize: 2048, maximumRingSize: 8388608, useHostnameForHashing: false });
    const maglev = compileCluster(loadBalancing({ consistentHash: { httpHeaderName: 'x-user', maglev: { tableSize: 1021 } } }, 'sidecar').fields);
    expect(maglev.lbConfig).toEqual({ kind: 'maglev', tableSize: 1021, useHostnameForHashing: false });
    expect(compileCluster({ lb_policy: 'MAGLEV' }).lbConfig).toEqual({ kind: 'maglev', tableSize: 65537, useHostnameForHashing: false });
  });

  it("compiles Istio's warmup as slow start on round robin and least request", () => {
    const rr = compileCluster(loadBalancing({ simple: 'ROUND_ROBIN', warmup: { duration: '10s', aggression: 2, minimumPercent: 20 } }, 'sidecar').fields);
    expect(rr.lbConfig).toEqual({ kind: 'round_robin', slowStart: { windowMs: 10_000, aggression: 2, minWeightPercent: 20 } });
    const lr = compileCluster(loadBalancing({ simple: 'LEAST_REQUEST', warmupDurationSecs: '5s' }, 'sidecar').fields);
    expect(lr.lbConfig).toMatchObject({ kind: 'least_request', slowStart: { windowMs: 5000, aggression: 1, minWeightPercent: 10 } });
  });

  it('NACKs a Maglev table size that is not prime, and other settings it cannot honour', () => {
    expect(rejectionOf(() => compileCluster({ lb_policy: 'MAGLEV', maglev_lb_config: { table_size: { value: 65536 } } }))).toBe(
      'cluster c: maglev_lb_config.table_size: The table size of maglev must be prime number (got 65536)',
    );
    expect(rejectionOf(() => compileCluster({ lb_policy: 'RING_HASH', ring_hash_lb_config: { minimum_ring_size: { value: 100 }, maximum_ring_size: { value: 10 } } }))).toMatch(
      /minimum_ring_size \(100\) > maximum_ring_size \(10\)/,
    );
    expect(rejectionOf(() => compileCluster({ lb_policy: 'RING_HASH', ring_hash_lb_config: { hash_function: 'MURMUR_HASH_2' } }))).toMatch(/MURMUR_HASH_2 is not supported/);
    expect(rejectionOf(() => compileCluster({ lb_policy: 'LEAST_REQUEST', least_request_lb_config: { choice_count: { value: 1 } } }))).toMatch(/choice_count must be at least 2/);
  });

  it('PASSTHROUGH is an ORIGINAL_DST cluster with CLUSTER_PROVIDED; the header option is honoured', () => {
    const lb = loadBalancing({ simple: 'PASSTHROUGH' }, 'sidecar');
    expect(lb.passthrough).toBe(true);
    const c = compileCluster({ lb_policy: 'CLUSTER_PROVIDED' }, 'ORIGINAL_DST');
    expect([c.discoveryType, c.lbPolicy, c.lbConfig]).toEqual([
      'ORIGINAL_DST',
      'CLUSTER_PROVIDED',
      { kind: 'original_dst', httpHeaderName: null, portOverride: null, cleanupIntervalMs: 5000 },
    ]);
    const h = compileCluster({ lb_policy: 'CLUSTER_PROVIDED', original_dst_lb_config: { use_http_header: true } }, 'ORIGINAL_DST');
    expect(h.lbConfig).toMatchObject({ httpHeaderName: 'x-envoy-original-dst-host' });
    expect(rejectionOf(() => compileCluster({ lb_policy: 'ROUND_ROBIN' }, 'ORIGINAL_DST'))).toMatch(/Only 'CLUSTER_PROVIDED' is allowed with cluster type 'ORIGINAL_DST'/);
    expect(rejectionOf(() => compileCluster({ lb_policy: 'CLUSTER_PROVIDED' }))).toMatch(/lb_policy CLUSTER_PROVIDED is not supported/);
  });
});

describe('outlier detection', () => {
  it("compiles Istio's translation with Istio's defaults written out, and panic threshold from minHealthPercent", () => {
    const c = compileCluster(outlierDetection({ consecutive5xxErrors: 3, interval: '100ms', baseEjectionTime: '200ms', maxEjectionPercent: 50, minHealthPercent: 25 }));
    expect(c.outlierDetection).toMatchObject({
      consecutive5xx: 3,
      enforcingConsecutive5xx: 100,
      consecutiveGatewayFailure: 5,
      enforcingConsecutiveGatewayFailure: 0,
      intervalMs: 100,
      baseEjectionTimeMs: 200,
      maxEjectionTimeMs: 300_000,
      maxEjectionPercent: 50,
      enforcingSuccessRate: 0,
      // Istio's "at least one host may always be ejected".
      alwaysEjectOneHost: true,
    });
    expect(c.healthyPanicThreshold).toBe(25);
    const d = compileCluster(outlierDetection({}));
    expect(d.outlierDetection).toMatchObject({ consecutive5xx: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10, alwaysEjectOneHost: true });
    // Istio turns panic mode off with outlier detection unless minHealthPercent says otherwise.
    expect(d.healthyPanicThreshold).toBe(0);
    const gw = compileCluster(outlierDetection({ consecutiveGatewayErrors: 2, consecutive5xxErrors: 0 }));
    expect(gw.outlierDetection).toMatchObject({ consecutive5xx: 0, enforcingConsecutive5xx: 0, consecutiveGatewayFailure: 2, enforcingConsecutiveGatewayFailure: 100 });
    expect(compileCluster({}).outlierDetection).toBeNull();
  });

  it("NACKs a max_ejection_time below base_ejection_time (Envoy's message)", () => {
    expect(rejectionOf(() => compileCluster({ outlier_detection: { base_ejection_time: { seconds: 60 }, max_ejection_time: { seconds: 30 } } }))).toBe(
      "cluster c: outlier_detection.max_ejection_time: outlier detector's max_ejection_time cannot be smaller than base_ejection_time",
    );
  });
});

describe('circuit breakers and connection pool', () => {
  it("compiles Istio's connectionPool: thresholds, per-connection limits, idle timeout, keepalive", () => {
    const pool = {
      tcp: { maxConnections: 1, tcpKeepalive: { time: '30s' } },
      http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1, idleTimeout: '2s', maxRetries: 4 },
    };
    const c = compileCluster({ ...circuitBreakers(pool), ...httpProtocolOptions('HTTP', pool), ...tcpKeepalive(pool) });
    expect(c.circuitBreakers).toEqual({ maxConnections: 1, maxPendingRequests: 1, maxRequests: 4294967295, maxRetries: 4, retryBudget: null });
    expect(c.connectionPool).toEqual({ idleTimeoutMs: 2000, maxRequestsPerConnection: 1, maxConnectionsPerHost: null, tcpKeepaliveTimeMs: 30_000 });
    expect(c.protocol).toBe('http1');
  });

  it("uses Envoy's defaults without circuit_breakers, and compiles a retry budget", () => {
    expect(compileCluster({}).circuitBreakers).toEqual({ maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3, retryBudget: null });
    const b = compileCluster(circuitBreakers(undefined, { percent: 25, minRetryConcurrency: 5 }));
    expect(b.circuitBreakers.retryBudget).toEqual({ budgetPercent: 25, minRetryConcurrency: 5 });
  });

  it('NACKs what it cannot enforce: HIGH-priority thresholds, max_connection_duration', () => {
    expect(rejectionOf(() => compileCluster({ circuit_breakers: { thresholds: [{ priority: 'HIGH', max_connections: { value: 1 } }] } }))).toMatch(/only DEFAULT thresholds apply/);
    expect(rejectionOf(() => compileCluster(httpProtocolOptions('HTTP', { tcp: { maxConnectionDuration: '10s' } })))).toMatch(/max_connection_duration is not supported/);
  });
});

describe('TLS origination (DestinationRule tls)', () => {
  it('compiles the UpstreamTlsContext of tls.mode SIMPLE (SNI of the host, nothing verified with insecureSkipVerify)', () => {
    expect(compileCluster(upstreamTls({ mode: 'SIMPLE', insecureSkipVerify: true }, 'a.default.svc.cluster.local', 'sidecar')).tls).toMatchObject({
      sni: 'a.default.svc.cluster.local',
      validation: null,
      clientCertificate: null,
    });
    expect(compileCluster(upstreamTls({ mode: 'ISTIO_MUTUAL' }, 'a.default.svc.cluster.local', 'sidecar')).tls).toBeNull();
  });
});

describe('hash policy', () => {
  const methods = (action: EnvoyJson) => {
    const vh = compileRoute(action);
    const a = vh.routes[0]!.action;
    return a.kind === 'forward' ? a.hashPolicy?.methods : undefined;
  };

  it("compiles Istio's header, cookie, source IP and query parameter policies", () => {
    expect(methods({ hash_policy: [hashPolicy({ httpHeaderName: 'X-User' })] })).toEqual([{ kind: 'header', name: 'x-user', rewrite: null, terminal: false }]);
    expect(methods({ hash_policy: [hashPolicy({ httpCookie: { name: 'user', path: '/', ttl: '60s' } })] })).toEqual([
      { kind: 'cookie', name: 'user', path: '/', ttlSeconds: 60, attributes: '', terminal: false },
    ]);
    expect(methods({ hash_policy: [hashPolicy({ useSourceIp: true })] })).toEqual([{ kind: 'source_ip', terminal: false }]);
    expect(methods({ hash_policy: [hashPolicy({ httpQueryParameterName: 'u' })] })).toEqual([{ kind: 'query_parameter', name: 'u', terminal: false }]);
    expect(methods({})).toBeUndefined();
  });

  it('NACKs filter_state hashing', () => {
    expect(rejectionOf(() => compileRoute({ hash_policy: [{ filter_state: { key: 'k' } }] }))).toMatch(/hashing on filter state is not supported/);
  });
});
