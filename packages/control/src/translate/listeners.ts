import { EXTENSION_TYPE_URL, type EnvoyJson } from '@trellis/envoy-api';
import {
  ADS_CONFIG_SOURCE,
  HTTP_FILTER,
  NETWORK_FILTER_HCM,
  VIRTUAL_INBOUND,
  VIRTUAL_OUTBOUND,
} from './names.js';
import { gatewayListeners } from './gateway/listeners.js';
import { resolveNamedTarget } from './targets.js';
import type { NamedResource, TranslateInput } from './types.js';

/**
 * The HTTP filter chain: fault, CORS, router (last, as Envoy and gRPC require). CORS is optional because
 * gRPC's xDS client has no CORS filter and rejects non-optional filters it doesn't know.
 */
export function httpFilters(): EnvoyJson[] {
  return [
    { name: HTTP_FILTER.fault, typed_config: { '@type': EXTENSION_TYPE_URL.fault } },
    { name: HTTP_FILTER.cors, typed_config: { '@type': EXTENSION_TYPE_URL.cors }, is_optional: true },
    { name: HTTP_FILTER.router, typed_config: { '@type': EXTENSION_TYPE_URL.router } },
  ];
}

/** An HttpConnectionManager (as a nested Any) fetching its routes over ADS. */
export function httpConnectionManager(statPrefix: string, routeConfigName: string): EnvoyJson {
  return {
    '@type': EXTENSION_TYPE_URL.httpConnectionManager,
    stat_prefix: statPrefix,
    codec_type: 'AUTO',
    rds: { config_source: ADS_CONFIG_SOURCE, route_config_name: routeConfigName },
    http_filters: httpFilters(),
  };
}

/** Sidecars pass WebSocket upgrades through, as Istio configures every HTTP connection manager. */
function sidecarConnectionManager(name: string): EnvoyJson {
  return { ...httpConnectionManager(name, name), upgrade_configs: [{ upgrade_type: 'websocket' }] };
}

function sidecarListener(name: string, address: string, port: number, direction: 'OUTBOUND' | 'INBOUND'): NamedResource {
  return {
    name,
    resource: {
      name,
      address: { socket_address: { address, port_value: port } },
      filter_chains: [{ filters: [{ name: NETWORK_FILTER_HCM, typed_config: sidecarConnectionManager(name) }] }],
      traffic_direction: direction,
    },
  };
}

/** The pod's own address: local mode gives every pod a loopback IP, so listeners must not take 0.0.0.0. */
const bindAddress = (input: TranslateInput) => input.proxy.ips[0] ?? '0.0.0.0';

/** `virtualOutbound` on 15001 (app -> mesh) and, for sidecars, `virtualInbound` on 15006 (mesh -> app). */
export function sidecarListeners(input: TranslateInput): NamedResource[] {
  const address = bindAddress(input);
  const ports = input.proxy.listenerPorts;
  const out = [sidecarListener(VIRTUAL_OUTBOUND, address, ports.outbound, 'OUTBOUND')];
  if (input.proxy.type === 'sidecar') out.push(sidecarListener(VIRTUAL_INBOUND, address, ports.inbound, 'INBOUND'));
  return out;
}

/**
 * A proxyless gRPC client's listener for a target: no socket, just an api_listener whose connection
 * manager fetches the route configuration of the same name.
 */
export function apiListener(input: TranslateInput, name: string): NamedResource | undefined {
  if (!resolveNamedTarget(input, name)) return undefined;
  return { name, resource: { name, api_listener: { api_listener: httpConnectionManager(name, name) } } };
}

/** The listeners a proxy gets for a wildcard request: a sidecar's capture listeners, a gateway's server ports. */
function ownListeners(input: TranslateInput): NamedResource[] {
  switch (input.proxy.type) {
    case 'grpc':
      return [];
    case 'router':
      return gatewayListeners(input);
    default:
      return sidecarListeners(input);
  }
}

/** LDS: a proxy's listeners for a wildcard request; named requests get the ones that exist. */
export function generateListeners(input: TranslateInput, names: readonly string[] | null): NamedResource[] {
  const own = ownListeners(input);
  if (names === null) return own;
  return [...new Set(names)].flatMap((name) => {
    const listener = own.find((l) => l.name === name) ?? apiListener(input, name);
    return listener ? [listener] : [];
  });
}
