/** Type URLs of the four xDS resource types Trellis serves, in Envoy's push order (CDS, EDS, LDS, RDS). */
export const TYPE_URL = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
} as const;

export type ResourceKind = keyof typeof TYPE_URL;
export type XdsTypeUrl = (typeof TYPE_URL)[ResourceKind];

export const RESOURCE_KINDS: readonly ResourceKind[] = ['cluster', 'endpoint', 'listener', 'route'];

const KIND_BY_URL = new Map<string, ResourceKind>(RESOURCE_KINDS.map((k) => [TYPE_URL[k], k]));
export function kindOfTypeUrl(url: string): ResourceKind | undefined {
  return KIND_BY_URL.get(url);
}

/** Short names as istioctl prints them. */
export const SHORT_NAME: Record<ResourceKind, string> = { cluster: 'CDS', endpoint: 'EDS', listener: 'LDS', route: 'RDS' };

/** Type URLs of extension configs Trellis packs into Anys. */
export const EXTENSION_TYPE_URL = {
  httpConnectionManager:
    'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  fault: 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
  cors: 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors',
  corsPolicy: 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  httpProtocolOptions: 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
} as const;
