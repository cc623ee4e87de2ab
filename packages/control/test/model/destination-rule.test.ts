import { describe, expect, it } from 'vitest';
import { destinationRule, errorsOf, parseObjects, warningsOf } from './helpers.js';

const LOCALITY_UNSUPPORTED = 'locality load balancing is not supported yet: endpoints are balanced without regard to locality';
const errors = (spec: object) => errorsOf(parseObjects(destinationRule(spec)));
const warnings = (spec: object) => warningsOf(parseObjects(destinationRule(spec)));
/** Errors of a traffic policy on an otherwise valid rule. */
const policyErrors = (trafficPolicy: object) => errors({ host: 'reviews', trafficPolicy });

describe('DestinationRule host and subsets', () => {
  it('accepts a typical rule', () => {
    expect(errors({ host: 'reviews.ns.svc.cluster.local', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2-mysql', labels: { version: 'v2-mysql' } }] })).toEqual([]);
    expect(errors({ host: '*.example.com' })).toEqual([]);
  });

  it('requires a valid host', () => {
    expect(errors({ subsets: [] })).toEqual([{ path: 'spec.host', message: 'host is required' }]);
    expect(errors({ host: '' })).toEqual([{ path: 'spec.host', message: 'empty domain name not allowed' }]);
    expect(errors({ host: 'bad host' })).toEqual([{ path: 'spec.host', message: 'domain name "bad host" invalid (label "bad host" invalid)' }]);
  });

  it('checks subset names (DNS-1123 labels, unique) and labels', () => {
    expect(errors({ host: 'r', subsets: [{ name: 'v1' }, { name: 'v1' }, { name: 'v.2' }, { labels: { version: 'v3' } }, { name: 'v4', labels: { 'a/b/c': 'x' } }] })).toEqual([
      { path: 'spec.subsets[1].name', message: 'duplicate subset names: v1' },
      { path: 'spec.subsets[2].name', message: 'subset name is invalid: v.2' },
      { path: 'spec.subsets[3].name', message: 'subset name cannot be empty' },
      { path: 'spec.subsets[4].labels["a/b/c"]', message: expect.stringMatching(/^invalid label key "a\/b\/c"/) },
    ]);
  });

  it('checks workload selectors and their exportTo', () => {
    expect(errors({ host: 'r', workloadSelector: { matchLabels: { app: '*' } }, exportTo: ['*'] })).toEqual([
      { path: 'spec.exportTo', message: 'destination rule with workload selector cannot have exportTo beyond current namespace' },
      { path: 'spec.workloadSelector.matchLabels.app', message: 'wildcard is not supported in selector: "app=*"' },
    ]);
    expect(warnings({ host: 'r', workloadSelector: {} })).toEqual([
      { path: 'spec.workloadSelector.matchLabels', message: 'workload selector specified without labels, the rule will apply to all workloads in the namespace' },
    ]);
  });
});

describe('traffic policy', () => {
  it('must not be empty', () => {
    expect(policyErrors({})).toEqual([{ path: 'spec.trafficPolicy', message: 'traffic policy must have at least one field' }]);
    expect(errors({ host: 'r', subsets: [{ name: 'v1', trafficPolicy: {} }] })).toEqual([
      { path: 'spec.subsets[0].trafficPolicy', message: 'traffic policy must have at least one field' },
    ]);
  });

  it('checks load balancer settings', () => {
    expect(policyErrors({ loadBalancer: { simple: 'LEAST_REQUEST' } })).toEqual([]);
    expect(policyErrors({ loadBalancer: { simple: 'ROUND_ROBIN', consistentHash: { useSourceIp: true } } })).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer', message: 'only one of simple, consistentHash may be set, found simple and consistentHash' },
    ]);
  });

  it('allows exactly one consistent hash key', () => {
    expect(policyErrors({ loadBalancer: { consistentHash: { httpHeaderName: 'x-user', ringHash: { minimumRingSize: 1024 } } } })).toEqual([]);
    expect(policyErrors({ loadBalancer: { consistentHash: { httpHeaderName: 'x-user', useSourceIp: true } } })).toEqual([
      {
        path: 'spec.trafficPolicy.loadBalancer.consistentHash',
        message: 'only one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName may be set, found httpHeaderName and useSourceIp',
      },
    ]);
    expect(warnings({ host: 'r', trafficPolicy: { loadBalancer: { consistentHash: {} } } })).toEqual([
      {
        path: 'spec.trafficPolicy.loadBalancer.consistentHash',
        message: 'consistentHash has none of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName; requests will not be hashed',
      },
    ]);
    expect(policyErrors({ loadBalancer: { consistentHash: { httpCookie: { ttl: '0s' } } } })).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name', message: 'name required for HttpCookie' },
    ]);
  });

  it('keeps ringHash and maglev exclusive and checks the maglev table size', () => {
    expect(policyErrors({ loadBalancer: { consistentHash: { useSourceIp: true, ringHash: {}, maglev: { tableSize: 65537 } } } })).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.consistentHash', message: 'only one of ringHash, maglev may be set, found ringHash and maglev' },
    ]);
    expect(policyErrors({ loadBalancer: { consistentHash: { useSourceIp: true, maglev: { tableSize: 65537 } } } })).toEqual([]);
    expect(policyErrors({ loadBalancer: { consistentHash: { useSourceIp: true, maglev: { tableSize: 65536 } } } })).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize', message: 'tableSize must be a prime number for maglev, got 65536' },
    ]);
    expect(policyErrors({ loadBalancer: { consistentHash: { useSourceIp: true, maglev: {} } } })).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize', message: 'tableSize must be set for maglev' },
    ]);
    expect(policyErrors({ loadBalancer: { consistentHash: { useSourceIp: true, maglev: { tableSize: 5000011 } } } })).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize', message: 'tableSize must be less than 5000011 for maglev' },
    ]);
  });

  it('accepts the deprecated minimumRingSize with a warning, but not together with ringHash', () => {
    const res = parseObjects(destinationRule({ host: 'r', trafficPolicy: { loadBalancer: { consistentHash: { useSourceIp: true, minimumRingSize: 2048 } } } }));
    expect(res.objects).toHaveLength(1);
    expect(warningsOf(res)).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize', message: 'using deprecated setting "minimumRingSize", use "ringHash.minimumRingSize" instead' },
    ]);
    expect(policyErrors({ loadBalancer: { consistentHash: { useSourceIp: true, minimumRingSize: 2048, ringHash: { minimumRingSize: 1024 } } } })).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize', message: 'only one of MinimumRingSize or Maglev/Ringhash can be specified' },
    ]);
  });

  it('checks locality load balancing', () => {
    const lb = (localityLbSetting: object) => policyErrors({ loadBalancer: { simple: 'ROUND_ROBIN', localityLbSetting }, outlierDetection: { consecutive5xxErrors: 1 } });
    expect(lb({ distribute: [{ from: 'us-west/zone1/*', to: { 'us-west/zone1/*': 80, 'us-west/zone2/*': 20 } }] })).toEqual([]);
    expect(lb({ distribute: [{ from: 'a/*', to: { 'a/*': 80 } }] })).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to', message: 'total locality weight 80 != 100' },
    ]);
    expect(lb({ distribute: [{ from: 'a', to: { b: 100 } }], failover: [{ from: 'a', to: 'b' }] })).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.localityLbSetting', message: "can not simultaneously specify 'distribute' and 'failover'" },
    ]);
    expect(lb({ failover: [{ from: 'us-east', to: 'us-east' }] })).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0]', message: 'locality lb failover settings must specify different regions' },
    ]);
    expect(warnings({ host: 'r', trafficPolicy: { loadBalancer: { localityLbSetting: { failover: [{ from: 'a', to: 'b' }] } } } })).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.localityLbSetting', message: 'outlier detection policy must be provided for failover' },
      { path: 'spec.trafficPolicy.loadBalancer.localityLbSetting', message: LOCALITY_UNSUPPORTED },
    ]);
  });

  it('accepts locality load balancing with a warning that it is not supported yet (none when disabled)', () => {
    expect(warnings({ host: 'r', trafficPolicy: { loadBalancer: { localityLbSetting: { enabled: true } } } })).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.localityLbSetting', message: LOCALITY_UNSUPPORTED },
    ]);
    expect(warnings({ host: 'r', trafficPolicy: { loadBalancer: { simple: 'RANDOM', localityLbSetting: { enabled: false } } } })).toEqual([]);
  });

  it('checks warmup: durations, and that only round robin and least request warm up', () => {
    expect(policyErrors({ loadBalancer: { simple: 'ROUND_ROBIN', warmupDurationSecs: '30s' } })).toEqual([]);
    expect(warnings({ host: 'r', trafficPolicy: { loadBalancer: { warmup: { duration: '10s', minimumPercent: 20, aggression: 2 } } } })).toEqual([]);
    expect(policyErrors({ loadBalancer: { warmupDurationSecs: '0.5ms' } })).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.warmupDurationSecs', message: 'duration must be at least 1ms, got "0.5ms"' },
    ]);
    expect(policyErrors({ loadBalancer: { warmup: { minimumPercent: 120, aggression: 0.5 } } })).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.warmup.duration', message: 'duration is required' },
      { path: 'spec.trafficPolicy.loadBalancer.warmup.minimumPercent', message: 'minimumPercent value should be less than or equal to 100' },
      { path: 'spec.trafficPolicy.loadBalancer.warmup.aggression', message: 'aggression should be greater than or equal to 1' },
    ]);
    expect(warnings({ host: 'r', trafficPolicy: { loadBalancer: { simple: 'RANDOM', warmupDurationSecs: '30s' } } })).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.warmupDurationSecs', message: 'warmupDurationSecs applies to ROUND_ROBIN and LEAST_REQUEST only; ignored for RANDOM' },
    ]);
    expect(warnings({ host: 'r', trafficPolicy: { loadBalancer: { consistentHash: { useSourceIp: true }, warmup: { duration: '5s' } } } })).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.warmup', message: 'warmup applies to ROUND_ROBIN and LEAST_REQUEST only; ignored for consistentHash' },
    ]);
  });

  it('checks maglev table sizes (prime, below 5000011) and cookie hashing', () => {
    expect(policyErrors({ loadBalancer: { consistentHash: { httpHeaderName: 'x', maglev: { tableSize: 65537 } } } })).toEqual([]);
    expect(policyErrors({ loadBalancer: { consistentHash: { httpHeaderName: 'x', maglev: { tableSize: 65536 } } } })).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize', message: 'tableSize must be a prime number for maglev, got 65536' },
    ]);
    expect(policyErrors({ loadBalancer: { consistentHash: { httpHeaderName: 'x', maglev: { tableSize: 5000011 } } } })).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize', message: 'tableSize must be less than 5000011 for maglev' },
    ]);
    expect(policyErrors({ loadBalancer: { consistentHash: { httpHeaderName: 'x', maglev: {} } } })).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize', message: 'tableSize must be set for maglev' },
    ]);
    expect(policyErrors({ loadBalancer: { consistentHash: { httpCookie: { name: 'u', ttl: '0s', path: '/', attributes: [{ name: 'SameSite', value: 'Strict' }] } } } })).toEqual([]);
    expect(policyErrors({ loadBalancer: { consistentHash: { httpCookie: { ttl: '10s' } } } })).toEqual([
      { path: 'spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name', message: 'name required for HttpCookie' },
    ]);
  });

  it('checks retry budgets and says that tunnel and proxyProtocol are not supported yet', () => {
    expect(policyErrors({ retryBudget: { percent: 25, minRetryConcurrency: 5 } })).toEqual([]);
    expect(policyErrors({ retryBudget: { percent: 120 } })).toEqual([
      { path: 'spec.trafficPolicy.retryBudget.percent', message: 'retry budget percent 120 is not in range [0.0, 100.0]' },
    ]);
    expect(warnings({ host: 'r', trafficPolicy: { proxyProtocol: { version: 'V2' } } })).toEqual([
      { path: 'spec.trafficPolicy.proxyProtocol', message: 'proxyProtocol is not supported yet: upstream connections carry no PROXY header' },
    ]);
    expect(warnings({ host: 'r', trafficPolicy: { tunnel: { targetHost: 'egress.example.com', targetPort: 443 } } })).toEqual([
      { path: 'spec.trafficPolicy.tunnel', message: 'tunnel is not supported yet: connections go to the destination directly' },
    ]);
  });

  it('checks connection pools', () => {
    expect(policyErrors({ connectionPool: { tcp: { maxConnections: 100, connectTimeout: '30ms', tcpKeepalive: { time: '7200s', interval: '75s' } }, http: { http2MaxRequests: 1000, maxRequestsPerConnection: 10 } } })).toEqual([]);
    expect(policyErrors({ connectionPool: {} })).toEqual([{ path: 'spec.trafficPolicy.connectionPool', message: 'connection pool must have at least one field' }]);
    expect(policyErrors({ connectionPool: { tcp: { maxConnections: -1, connectTimeout: '0s', idleTimeout: '0s' }, http: { http1MaxPendingRequests: -5, h2UpgradePolicy: 'UPGRADE', useClientProtocol: true } } })).toEqual([
      { path: 'spec.trafficPolicy.connectionPool.http.http1MaxPendingRequests', message: 'http1 max pending requests must be non-negative' },
      { path: 'spec.trafficPolicy.connectionPool.http', message: 'use client protocol must not be true when H2UpgradePolicy is UPGRADE' },
      { path: 'spec.trafficPolicy.connectionPool.tcp.maxConnections', message: 'max connections must be non-negative' },
      { path: 'spec.trafficPolicy.connectionPool.tcp.connectTimeout', message: 'duration must be at least 1ms, got "0s"' },
    ]);
    expect(policyErrors({ connectionPool: { http: { h2UpgradePolicy: 'SOMETIMES' } } })).toEqual([
      { path: 'spec.trafficPolicy.connectionPool.http.h2UpgradePolicy', message: 'must be one of DEFAULT, DO_NOT_UPGRADE, UPGRADE, got "SOMETIMES"' },
    ]);
  });

  it('checks outlier detection', () => {
    expect(policyErrors({ outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 10 } })).toEqual([]);
    expect(policyErrors({ outlierDetection: { interval: '0.5ms', maxEjectionPercent: 101, minHealthPercent: -1, consecutiveLocalOriginFailures: 3 } })).toEqual([
      { path: 'spec.trafficPolicy.outlierDetection.interval', message: 'duration must be at least 1ms, got "0.5ms"' },
      {
        path: 'spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures',
        message: 'outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false',
      },
      { path: 'spec.trafficPolicy.outlierDetection.maxEjectionPercent', message: 'percentage 101 is not in range 0..100' },
      { path: 'spec.trafficPolicy.outlierDetection.minHealthPercent', message: 'percentage -1 is not in range 0..100' },
    ]);
    expect(policyErrors({ outlierDetection: { consecutive5xxErrors: -1 } })).toEqual([
      { path: 'spec.trafficPolicy.outlierDetection.consecutive5xxErrors', message: 'must be a non-negative integer, got -1' },
    ]);
    expect(warnings({ host: 'r', trafficPolicy: { outlierDetection: { consecutiveErrors: 7 } } })).toEqual([
      {
        path: 'spec.trafficPolicy.outlierDetection.consecutiveErrors',
        message: 'using deprecated setting "consecutiveErrors", use "consecutiveGatewayErrors" or "consecutive5xxErrors" instead',
      },
    ]);
  });

  it('says mTLS modes are not supported yet, at every level; SIMPLE is quiet unless a verification field cannot be honoured', () => {
    const mtls = (mode: string) => `mTLS is not supported yet: tls.mode ${mode} is ignored and connections stay plaintext`;
    expect(warnings({ host: 'r', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } })).toEqual([{ path: 'spec.trafficPolicy.tls.mode', message: mtls('ISTIO_MUTUAL') }]);
    expect(warnings({
      host: 'r',
      trafficPolicy: { portLevelSettings: [{ port: { number: 443 }, tls: { mode: 'MUTUAL', credentialName: 'c' } }] },
      subsets: [{ name: 'v1', labels: { v: '1' }, trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }],
    })).toEqual([
      { path: 'spec.trafficPolicy.portLevelSettings[0].tls.mode', message: mtls('MUTUAL') },
      { path: 'spec.subsets[0].trafficPolicy.tls.mode', message: mtls('ISTIO_MUTUAL') },
    ]);
    expect(warnings({ host: 'r', trafficPolicy: { tls: { mode: 'SIMPLE', sni: 'api.example.com' } } })).toEqual([]);
    expect(warnings({ host: 'r', trafficPolicy: { tls: { mode: 'DISABLE' } } })).toEqual([]);
    // caCertificates + subjectAltNames are honoured (the sidecar verifies the server).
    expect(warnings({ host: 'r', trafficPolicy: { tls: { mode: 'SIMPLE', caCertificates: '/ca.pem', subjectAltNames: ['api'] } } })).toEqual([]);
    // without caCertificates the public roots verify the server, and the SANs are checked too
    expect(warnings({ host: 'r', trafficPolicy: { tls: { mode: 'SIMPLE', subjectAltNames: ['api'] } } })).toEqual([]);
    expect(warnings({ host: 'r', trafficPolicy: { tls: { mode: 'SIMPLE', credentialName: 'api-ca', caCrl: undefined } } })).toEqual([
      { path: 'spec.trafficPolicy.tls.credentialName', message: 'credentialName (Kubernetes secrets) is not supported: the upstream certificate is not verified; give caCertificates instead' },
    ]);
    expect(warnings({ host: 'r', trafficPolicy: { tls: { mode: 'SIMPLE', caCertificates: '/ca.pem', caCrl: '/crl.pem' } } })).toEqual([
      { path: 'spec.trafficPolicy.tls.caCrl', message: 'certificate revocation lists are not supported: caCrl is ignored' },
    ]);
    expect(warnings({ host: 'r', trafficPolicy: { tls: { mode: 'SIMPLE', insecureSkipVerify: true } } })).toEqual([]);
  });

  it('checks client TLS', () => {
    expect(policyErrors({ tls: { mode: 'ISTIO_MUTUAL' } })).toEqual([]);
    expect(policyErrors({ tls: { mode: 'MUTUAL', credentialName: 'client-creds' } })).toEqual([]);
    expect(policyErrors({ tls: { mode: 'STRICT' } })).toEqual([
      { path: 'spec.trafficPolicy.tls.mode', message: 'must be one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL, got "STRICT"' },
    ]);
    expect(policyErrors({ tls: { mode: 'MUTUAL' } })).toEqual([
      { path: 'spec.trafficPolicy.tls.clientCertificate', message: 'client certificate required for mutual tls' },
      { path: 'spec.trafficPolicy.tls.privateKey', message: 'private key required for mutual tls' },
    ]);
    expect(policyErrors({ tls: { mode: 'SIMPLE', credentialName: 'c', caCertificates: '/ca.pem' } })).toEqual([
      { path: 'spec.trafficPolicy.tls', message: 'cannot specify client certificates or CA certificate or CA CRL If credentialName is set' },
    ]);
  });

  it('checks port-level settings', () => {
    expect(policyErrors({ portLevelSettings: [{ port: { number: 443 }, tls: { mode: 'SIMPLE' } }] })).toEqual([]);
    expect(policyErrors({ portLevelSettings: [{ tls: { mode: 'SIMPLE' } }, { port: { number: 0 }, loadBalancer: { simple: 'RANDOM' } }, { port: { number: 80 } }] })).toEqual([
      { path: 'spec.trafficPolicy.portLevelSettings[0].port', message: 'portTrafficPolicy must have valid port' },
      { path: 'spec.trafficPolicy.portLevelSettings[1].port.number', message: 'port number 0 must be in the range 1..65535' },
      { path: 'spec.trafficPolicy.portLevelSettings[2]', message: 'port traffic policy must have at least one field' },
    ]);
  });
});
