import type { EnvoyJson } from '@trellis/envoy-api';
import { routeConfiguration, virtualServiceRoutes } from '../routes.js';
import type { NamedResource, TranslateInput } from '../types.js';
import { namesGateway, virtualServicesForGateway } from './bindings.js';
import { matchingHosts } from './hosts.js';
import { gatewayPorts, gatewayRouteName, type GatewayServer } from './servers.js';

interface VirtualHostDraft {
  name: string;
  domain: string;
  routes: EnvoyJson[];
  requireTls: boolean;
}

/**
 * Virtual hosts for the servers behind one route configuration (Istio's buildGatewayHTTPRouteConfig): per
 * VirtualService bound to a server's Gateway, one virtual host per host it serves there, named `host:port`;
 * VirtualServices serving the same host add their routes to it in order. An HTTP server with
 * `tls.httpsRedirect` makes its hosts answer 301 to https (require_tls ALL).
 */
function virtualHosts(input: TranslateInput, servers: readonly GatewayServer[]): EnvoyJson[] {
  const byDomain = new Map<string, VirtualHostDraft>();
  for (const s of servers) {
    const redirect = s.kind === 'http' && s.server.tls?.httpsRedirect === true;
    for (const vs of virtualServicesForGateway(input, s.gatewayName)) {
      const hosts = matchingHosts(vs, s);
      if (hosts.length === 0) continue;
      const gateway = (names: readonly string[]) => namesGateway(names, vs.metadata.namespace, s.gatewayName);
      const routes = virtualServiceRoutes(input, vs, { port: s.port, proxy: input.proxy, gateway });
      for (const domain of hosts) {
        let vh = byDomain.get(domain);
        if (!vh) byDomain.set(domain, (vh = { name: `${domain}:${s.port}`, domain, routes: [], requireTls: false }));
        vh.routes.push(...routes);
        vh.requireTls ||= redirect;
      }
    }
  }
  return [...byDomain.values()].map((vh) => ({
    name: vh.name,
    domains: [vh.domain],
    routes: vh.routes,
    include_request_attempt_count: true,
    ...(vh.requireTls ? { require_tls: 'ALL' } : {}),
  }));
}

/** Every route configuration the gateway's listeners name: `http.PORT` per HTTP port, one per HTTPS server. */
export function gatewayRouteConfigurations(input: TranslateInput): NamedResource[] {
  const groups = new Map<string, GatewayServer[]>();
  for (const port of gatewayPorts(input)) {
    for (const s of port.servers) {
      const name = gatewayRouteName(s);
      groups.set(name, [...(groups.get(name) ?? []), s]);
    }
  }
  return [...groups].map(([name, servers]) => routeConfiguration(name, virtualHosts(input, servers)));
}
