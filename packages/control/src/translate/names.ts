/**
 * Names Istio and Envoy agree on: cluster and listener names, filter names, extension type URLs.
 */

/** The sidecar's catch-all listeners and their route configurations (Istio's names). */
export const VIRTUAL_OUTBOUND = 'virtualOutbound';
export const VIRTUAL_INBOUND = 'virtualInbound';

/**
 * Set by the calling sidecar from an endpoint's metadata, so the inbound listener of a pod with several
 * app ports knows which one was meant (no iptables to keep the original destination port).
 */
export const INBOUND_PORT_HEADER = 'x-trellis-inbound-port';
/** filter_metadata key on sidecar'd endpoints: `{ target_port }`. */
export const TRELLIS_METADATA_KEY = 'trellis';

export const HTTP_FILTER = {
  fault: 'envoy.filters.http.fault',
  cors: 'envoy.filters.http.cors',
  router: 'envoy.filters.http.router',
} as const;
export const NETWORK_FILTER_HCM = 'envoy.filters.network.http_connection_manager';
export const TRANSPORT_SOCKET_TLS = 'envoy.transport_sockets.tls';
export const RETRY_PREVIOUS_HOSTS = 'envoy.retry_host_predicates.previous_hosts';
export const RETRY_PREVIOUS_PRIORITIES = 'envoy.retry_priorities.previous_priorities';
export const HTTP_PROTOCOL_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** Type URLs Trellis packs beyond the envoy-api's EXTENSION_TYPE_URL. */
export const MORE_TYPE_URL = {
  upstreamTlsContext: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  previousHosts: 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
  previousPriorities: 'type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig',
  filterConfig: 'type.googleapis.com/envoy.config.route.v3.FilterConfig',
} as const;

/** Subscribe over the same ADS stream (Istio's config source for RDS and EDS). */
export const ADS_CONFIG_SOURCE = { ads: {}, resource_api_version: 'V3' } as const;

/** `outbound|PORT|SUBSET|HOST`, Istio's outbound cluster name. */
export function outboundClusterName(port: number, subset: string | undefined, host: string): string {
  return `outbound|${port}|${subset ?? ''}|${host}`;
}

/** `inbound|PORT||`, the cluster in front of the app's port on a sidecar. */
export function inboundClusterName(port: number): string {
  return `inbound|${port}||`;
}

export interface ParsedClusterName {
  direction: 'outbound' | 'inbound';
  port: number;
  subset: string;
  host: string;
}

export function parseClusterName(name: string): ParsedClusterName | undefined {
  const parts = name.split('|');
  if (parts.length !== 4) return undefined;
  const [direction, port, subset, host] = parts as [string, string, string, string];
  if ((direction !== 'outbound' && direction !== 'inbound') || !/^\d+$/.test(port)) return undefined;
  return { direction, port: Number(port), subset, host };
}
