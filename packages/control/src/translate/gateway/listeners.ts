import type { EnvoyJson } from '@trellis/envoy-api';
import { httpConnectionManager } from '../listeners.js';
import { NETWORK_FILTER_HCM } from '../names.js';
import type { NamedResource, TranslateInput } from '../types.js';
import { serverHostNames } from './hosts.js';
import { gatewayListenerName, gatewayPorts, gatewayRouteName, type GatewayPort, type GatewayServer } from './servers.js';
import { gatewayTransportSocket } from './tls.js';

export const TLS_INSPECTOR = 'envoy.filters.listener.tls_inspector';
export const TLS_INSPECTOR_TYPE = 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';

/**
 * A gateway's connection manager: routes over RDS, WebSocket upgrades, and the port stripped from the Host
 * before routing (Istio's gateways: virtual hosts list bare host names, whatever port the client used).
 */
function gatewayConnectionManager(statPrefix: string, routeName: string): EnvoyJson {
  return {
    ...httpConnectionManager(statPrefix, routeName),
    upgrade_configs: [{ upgrade_type: 'websocket' }],
    strip_any_host_port: true,
  };
}

const hcmFilter = (statPrefix: string, routeName: string) => ({ name: NETWORK_FILTER_HCM, typed_config: gatewayConnectionManager(statPrefix, routeName) });

/**
 * One TLS filter chain per HTTPS server, matched by SNI on its hosts (none for `*`: the default chain).
 * Undefined when the server's certificate is missing.
 */
interface HttpsChain {
  serverNames: string[];
  chain: EnvoyJson;
}

function httpsChain(input: TranslateInput, s: GatewayServer, statPrefix: string): HttpsChain | undefined {
  const transport = s.server.tls ? gatewayTransportSocket(input, s.server.tls) : undefined;
  if (!transport) return undefined;
  const names = serverHostNames(s);
  const serverNames = names.includes('*') ? [] : names;
  const chain = { name: gatewayRouteName(s), filters: [hcmFilter(statPrefix, gatewayRouteName(s))], transport_socket: transport };
  return { serverNames, chain };
}

/**
 * Chains for HTTPS servers whose SNI sets don't collide: two servers on one port claiming the same name (or
 * both none) can't both be reached; the first keeps it, as Envoy refuses duplicate filter chain matches.
 */
function httpsChains(input: TranslateInput, p: GatewayPort, statPrefix: string): EnvoyJson[] {
  const claimed = new Set<string>();
  const out: EnvoyJson[] = [];
  for (const s of p.servers) {
    const built = httpsChain(input, s, statPrefix);
    if (!built) continue;
    // '' stands for "no SNI match": the default chain.
    const names = built.serverNames.length > 0 ? built.serverNames : [''];
    const free = names.filter((n) => !claimed.has(n));
    if (free.length === 0) continue;
    free.forEach((n) => claimed.add(n));
    out.push(free[0] === '' ? built.chain : { filter_chain_match: { server_names: free }, ...built.chain });
  }
  return out;
}

function gatewayListener(input: TranslateInput, p: GatewayPort): NamedResource | undefined {
  const name = gatewayListenerName(p);
  const statPrefix = `outbound_${name}`;
  const chains = p.kind === 'http' ? [{ filters: [hcmFilter(statPrefix, `http.${p.port}`)] }] : httpsChains(input, p, statPrefix);
  if (chains.length === 0) return undefined;
  const resource: EnvoyJson = {
    name,
    address: { socket_address: { address: p.bind, port_value: p.port } },
    filter_chains: chains,
    traffic_direction: 'OUTBOUND',
  };
  // SNI is read by the TLS inspector before a chain is picked.
  if (p.kind === 'https') resource.listener_filters = [{ name: TLS_INSPECTOR, typed_config: { '@type': TLS_INSPECTOR_TYPE } }];
  return { name, resource };
}

/** A gateway proxy's listeners (Istio's buildGatewayListeners): one per server port of the Gateways selecting it. */
export function gatewayListeners(input: TranslateInput): NamedResource[] {
  return gatewayPorts(input).flatMap((p) => {
    const l = gatewayListener(input, p);
    return l ? [l] : [];
  });
}
