/**
 * The field schema of networking.istio.io (v1, v1beta1 and v1alpha3 share it), from istio/api's protos,
 * in the JSON (lowerCamelCase) names users write. Wrapper types (UInt32Value, BoolValue, ...) appear as
 * their plain value, as in YAML.
 */
import {
  BOOL,
  DOUBLE,
  DURATION,
  INT32,
  STRING,
  UINT32,
  UINT64,
  enumOf,
  listOf,
  mapOf,
  messageOf,
  type MessageSchema,
} from './field-walker.js';

const STRINGS = listOf(STRING);
const LABELS = mapOf(STRING);

const message = (
  name: string,
  fields: MessageSchema['fields'],
  extra: Omit<MessageSchema, 'name' | 'fields'> = {},
): MessageSchema => ({ name, fields, ...extra });

// ---------------------------------------------------------------- shared

export const PERCENT = message('Percent', { value: DOUBLE });
export const PORT_SELECTOR = message('PortSelector', { number: UINT32 });
export const STRING_MATCH = message('StringMatch', { exact: STRING, prefix: STRING, regex: STRING }, {
  oneofs: [['exact', 'prefix', 'regex']],
});
export const DESTINATION = message('Destination', { host: STRING, subset: STRING, port: messageOf(PORT_SELECTOR) });
const HEADER_OPERATIONS = message('HeaderOperations', { set: mapOf(STRING), add: mapOf(STRING), remove: STRINGS });
export const HEADERS = message('Headers', {
  request: messageOf(HEADER_OPERATIONS),
  response: messageOf(HEADER_OPERATIONS),
});

// ---------------------------------------------------------------- VirtualService

const HTTP_MATCH_REQUEST = message('HTTPMatchRequest', {
  name: STRING,
  uri: messageOf(STRING_MATCH),
  scheme: messageOf(STRING_MATCH),
  method: messageOf(STRING_MATCH),
  authority: messageOf(STRING_MATCH),
  headers: mapOf(messageOf(STRING_MATCH)),
  port: UINT32,
  sourceLabels: LABELS,
  gateways: STRINGS,
  queryParams: mapOf(messageOf(STRING_MATCH)),
  ignoreUriCase: BOOL,
  withoutHeaders: mapOf(messageOf(STRING_MATCH)),
  sourceNamespace: STRING,
  statPrefix: STRING,
});

const HTTP_ROUTE_DESTINATION = message('HTTPRouteDestination', {
  destination: messageOf(DESTINATION),
  weight: INT32,
  headers: messageOf(HEADERS),
});

const HTTP_REDIRECT = message('HTTPRedirect', {
  uri: STRING,
  authority: STRING,
  port: UINT32,
  derivePort: enumOf('FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'),
  scheme: STRING,
  redirectCode: UINT32,
}, { oneofs: [['port', 'derivePort']] });

const HTTP_DIRECT_RESPONSE = message('HTTPDirectResponse', {
  status: UINT32,
  body: messageOf(message('HTTPBody', { string: STRING, bytes: STRING }, { oneofs: [['string', 'bytes']] })),
});

const DELEGATE = message('Delegate', { name: STRING, namespace: STRING });

const HTTP_REWRITE = message('HTTPRewrite', {
  uri: STRING,
  authority: STRING,
  uriRegexRewrite: messageOf(message('RegexRewrite', { match: STRING, rewrite: STRING })),
});

const HTTP_RETRY = message('HTTPRetry', {
  attempts: INT32,
  perTryTimeout: DURATION,
  retryOn: STRING,
  retryRemoteLocalities: BOOL,
  retryIgnorePreviousHosts: BOOL,
  backoff: DURATION,
});

const HTTP_FAULT_INJECTION = message('HTTPFaultInjection', {
  delay: messageOf(message('Delay', {
    fixedDelay: DURATION,
    exponentialDelay: DURATION,
    percentage: messageOf(PERCENT),
    percent: INT32,
  }, { oneofs: [['fixedDelay', 'exponentialDelay']], deprecated: { percent: '"percentage"' } })),
  abort: messageOf(message('Abort', {
    httpStatus: INT32,
    grpcStatus: STRING,
    http2Error: STRING,
    percentage: messageOf(PERCENT),
  }, { oneofs: [['httpStatus', 'grpcStatus', 'http2Error']] })),
});

const HTTP_MIRROR_POLICY = message('HTTPMirrorPolicy', {
  destination: messageOf(DESTINATION),
  percentage: messageOf(PERCENT),
});

const CORS_POLICY = message('CorsPolicy', {
  allowOrigin: STRINGS,
  allowOrigins: listOf(messageOf(STRING_MATCH)),
  allowMethods: STRINGS,
  allowHeaders: STRINGS,
  exposeHeaders: STRINGS,
  maxAge: DURATION,
  allowCredentials: BOOL,
  unmatchedPreflights: enumOf('UNSPECIFIED', 'FORWARD', 'IGNORE'),
}, { deprecated: { allowOrigin: '"allowOrigins"' } });

const HTTP_ROUTE = message('HTTPRoute', {
  name: STRING,
  match: listOf(messageOf(HTTP_MATCH_REQUEST)),
  route: listOf(messageOf(HTTP_ROUTE_DESTINATION)),
  redirect: messageOf(HTTP_REDIRECT),
  directResponse: messageOf(HTTP_DIRECT_RESPONSE),
  delegate: messageOf(DELEGATE),
  rewrite: messageOf(HTTP_REWRITE),
  timeout: DURATION,
  retries: messageOf(HTTP_RETRY),
  fault: messageOf(HTTP_FAULT_INJECTION),
  mirror: messageOf(DESTINATION),
  mirrors: listOf(messageOf(HTTP_MIRROR_POLICY)),
  mirrorPercent: UINT32,
  mirrorPercentage: messageOf(PERCENT),
  corsPolicy: messageOf(CORS_POLICY),
  headers: messageOf(HEADERS),
}, { deprecated: { mirrorPercent: '"mirrorPercentage"' } });

const ROUTE_DESTINATION = message('RouteDestination', { destination: messageOf(DESTINATION), weight: INT32 });

const TLS_ROUTE = message('TLSRoute', {
  match: listOf(messageOf(message('TLSMatchAttributes', {
    sniHosts: STRINGS,
    destinationSubnets: STRINGS,
    port: UINT32,
    sourceLabels: LABELS,
    gateways: STRINGS,
    sourceNamespace: STRING,
  }))),
  route: listOf(messageOf(ROUTE_DESTINATION)),
});

const TCP_ROUTE = message('TCPRoute', {
  match: listOf(messageOf(message('L4MatchAttributes', {
    destinationSubnets: STRINGS,
    port: UINT32,
    sourceLabels: LABELS,
    gateways: STRINGS,
    sourceNamespace: STRING,
  }))),
  route: listOf(messageOf(ROUTE_DESTINATION)),
});

export const VIRTUAL_SERVICE = message('VirtualService', {
  hosts: STRINGS,
  gateways: STRINGS,
  http: listOf(messageOf(HTTP_ROUTE)),
  tls: listOf(messageOf(TLS_ROUTE)),
  tcp: listOf(messageOf(TCP_ROUTE)),
  exportTo: STRINGS,
});

// ---------------------------------------------------------------- DestinationRule

const LOCALITY_LB_SETTING = message('LocalityLoadBalancerSetting', {
  distribute: listOf(messageOf(message('Distribute', { from: STRING, to: mapOf(UINT32) }))),
  failover: listOf(messageOf(message('Failover', { from: STRING, to: STRING }))),
  failoverPriority: STRINGS,
  enabled: BOOL,
});

const CONSISTENT_HASH_LB = message('ConsistentHashLB', {
  httpHeaderName: STRING,
  httpCookie: messageOf(message('HTTPCookie', {
    name: STRING,
    path: STRING,
    ttl: DURATION,
    attributes: listOf(messageOf(message('Attribute', { name: STRING, value: STRING }))),
  })),
  useSourceIp: BOOL,
  httpQueryParameterName: STRING,
  ringHash: messageOf(message('RingHash', { minimumRingSize: UINT64 })),
  maglev: messageOf(message('MagLev', { tableSize: UINT64 })),
  minimumRingSize: UINT64,
}, {
  oneofs: [['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'], ['ringHash', 'maglev']],
  deprecated: { minimumRingSize: '"ringHash.minimumRingSize"' },
});

export const SIMPLE_LB = ['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'] as const;

const LOAD_BALANCER_SETTINGS = message('LoadBalancerSettings', {
  simple: enumOf(...SIMPLE_LB),
  consistentHash: messageOf(CONSISTENT_HASH_LB),
  localityLbSetting: messageOf(LOCALITY_LB_SETTING),
  warmupDurationSecs: DURATION,
  warmup: messageOf(message('WarmupConfiguration', { duration: DURATION, minimumPercent: DOUBLE, aggression: DOUBLE })),
}, { oneofs: [['simple', 'consistentHash']] });

const CONNECTION_POOL_SETTINGS = message('ConnectionPoolSettings', {
  tcp: messageOf(message('TCPSettings', {
    maxConnections: INT32,
    connectTimeout: DURATION,
    tcpKeepalive: messageOf(message('TcpKeepalive', { probes: UINT32, time: DURATION, interval: DURATION })),
    maxConnectionDuration: DURATION,
    idleTimeout: DURATION,
  })),
  http: messageOf(message('HTTPSettings', {
    http1MaxPendingRequests: INT32,
    http2MaxRequests: INT32,
    maxRequestsPerConnection: INT32,
    maxRetries: INT32,
    idleTimeout: DURATION,
    h2UpgradePolicy: enumOf('DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'),
    useClientProtocol: BOOL,
    maxConcurrentStreams: INT32,
  })),
});

const OUTLIER_DETECTION = message('OutlierDetection', {
  consecutiveErrors: INT32,
  splitExternalLocalOriginErrors: BOOL,
  consecutiveLocalOriginFailures: UINT32,
  consecutiveGatewayErrors: UINT32,
  consecutive5xxErrors: UINT32,
  interval: DURATION,
  baseEjectionTime: DURATION,
  maxEjectionPercent: INT32,
  minHealthPercent: INT32,
}, { deprecated: { consecutiveErrors: '"consecutiveGatewayErrors" or "consecutive5xxErrors"' } });

const CLIENT_TLS_SETTINGS = message('ClientTLSSettings', {
  mode: enumOf('DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'),
  clientCertificate: STRING,
  privateKey: STRING,
  caCertificates: STRING,
  credentialName: STRING,
  subjectAltNames: STRINGS,
  sni: STRING,
  insecureSkipVerify: BOOL,
  caCrl: STRING,
});

const PORT_TRAFFIC_POLICY = message('PortTrafficPolicy', {
  port: messageOf(PORT_SELECTOR),
  loadBalancer: messageOf(LOAD_BALANCER_SETTINGS),
  connectionPool: messageOf(CONNECTION_POOL_SETTINGS),
  outlierDetection: messageOf(OUTLIER_DETECTION),
  tls: messageOf(CLIENT_TLS_SETTINGS),
});

const TRAFFIC_POLICY = message('TrafficPolicy', {
  loadBalancer: messageOf(LOAD_BALANCER_SETTINGS),
  connectionPool: messageOf(CONNECTION_POOL_SETTINGS),
  outlierDetection: messageOf(OUTLIER_DETECTION),
  tls: messageOf(CLIENT_TLS_SETTINGS),
  portLevelSettings: listOf(messageOf(PORT_TRAFFIC_POLICY)),
  tunnel: messageOf(message('TunnelSettings', { protocol: STRING, targetHost: STRING, targetPort: UINT32 })),
  proxyProtocol: messageOf(message('ProxyProtocol', { version: enumOf('V1', 'V2') })),
  retryBudget: messageOf(message('RetryBudget', { percent: DOUBLE, minRetryConcurrency: UINT32 })),
});

export const DESTINATION_RULE = message('DestinationRule', {
  host: STRING,
  trafficPolicy: messageOf(TRAFFIC_POLICY),
  subsets: listOf(messageOf(message('Subset', { name: STRING, labels: LABELS, trafficPolicy: messageOf(TRAFFIC_POLICY) }))),
  exportTo: STRINGS,
  workloadSelector: messageOf(message('WorkloadSelector', { matchLabels: LABELS })),
});

// ---------------------------------------------------------------- Gateway

const TLS_PROTOCOL = enumOf('TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3');

const SERVER_TLS_SETTINGS = message('ServerTLSSettings', {
  httpsRedirect: BOOL,
  mode: enumOf('PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL'),
  serverCertificate: STRING,
  privateKey: STRING,
  caCertificates: STRING,
  caCrl: STRING,
  credentialName: STRING,
  credentialNames: STRINGS,
  tlsCertificates: listOf(messageOf(message('TLSCertificate', {
    serverCertificate: STRING,
    privateKey: STRING,
    caCertificates: STRING,
  }))),
  subjectAltNames: STRINGS,
  verifyCertificateSpki: STRINGS,
  verifyCertificateHash: STRINGS,
  minProtocolVersion: TLS_PROTOCOL,
  maxProtocolVersion: TLS_PROTOCOL,
  cipherSuites: STRINGS,
});

const GATEWAY_PORT = message('Port', { number: UINT32, protocol: STRING, name: STRING, targetPort: UINT32 });

export const GATEWAY = message('Gateway', {
  servers: listOf(messageOf(message('Server', {
    port: messageOf(GATEWAY_PORT),
    bind: STRING,
    hosts: STRINGS,
    tls: messageOf(SERVER_TLS_SETTINGS),
    defaultEndpoint: STRING,
    name: STRING,
  }))),
  selector: LABELS,
});

// ---------------------------------------------------------------- ServiceEntry / WorkloadEntry

export const WORKLOAD_ENTRY = message('WorkloadEntry', {
  address: STRING,
  ports: mapOf(UINT32),
  labels: LABELS,
  network: STRING,
  locality: STRING,
  weight: UINT32,
  serviceAccount: STRING,
});

export const SERVICE_ENTRY = message('ServiceEntry', {
  hosts: STRINGS,
  addresses: STRINGS,
  ports: listOf(messageOf(message('ServicePort', { number: UINT32, protocol: STRING, name: STRING, targetPort: UINT32 }))),
  location: enumOf('MESH_EXTERNAL', 'MESH_INTERNAL'),
  resolution: enumOf('NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN'),
  endpoints: listOf(messageOf(WORKLOAD_ENTRY)),
  workloadSelector: messageOf(message('WorkloadSelector', { labels: LABELS })),
  exportTo: STRINGS,
  subjectAltNames: STRINGS,
});
