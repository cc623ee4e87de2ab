import type { Server } from '../../model/istio-types.js';
import type { Gateway } from '../../model/objects.js';
import { isHTTPProtocol, parseProtocol } from '../../model/validate/ports.js';
import { labelsMatch } from '../../registry/labels.js';
import type { TranslateInput } from '../types.js';

/**
 * One Gateway server as the gateway proxy serves it. `http`: plain HTTP; `https`: HTTP behind TLS the gateway
 * terminates (HTTPS with SIMPLE, MUTUAL or OPTIONAL_MUTUAL). TLS passthrough and TCP servers are not served
 * (the Trellis proxy speaks HTTP only; validation warns about them).
 */
export interface GatewayServer {
  gateway: Gateway;
  server: Server;
  /** `namespace/name` of the Gateway, as VirtualServices name it after resolution. */
  gatewayName: string;
  kind: 'http' | 'https';
  /** The server's port as written: what VirtualService matches and virtual host names refer to. */
  port: number;
  /** Where the gateway listens for it (see listenPort). */
  listenPort: number;
  /** The address the server binds (Gateway `bind`), else the wildcard (the proxy's own address). */
  bind: string;
}

/** All servers sharing one listener (bind address and port), of one kind: the first server on it decides the kind. */
export interface GatewayPort {
  bind: string;
  /** The port listened on. */
  port: number;
  kind: GatewayServer['kind'];
  servers: GatewayServer[];
}

export const WILDCARD_ADDRESS = '0.0.0.0';

/**
 * Gateways that configure this gateway proxy: a selector that its labels match (in any namespace, Istio's
 * default), or no selector at all (applies to every gateway workload).
 */
export function gatewaysFor(input: TranslateInput): Gateway[] {
  return input.config.gateways.filter((gw) => labelsMatch(input.proxy.labels, gw.spec?.selector));
}

function serverKind(server: Server): GatewayServer['kind'] | undefined {
  const protocol = parseProtocol(server.port?.protocol);
  if (isHTTPProtocol(protocol)) return 'http';
  const mode = server.tls?.mode;
  if (protocol === 'HTTPS' && (mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL')) return 'https';
  return undefined;
}

/**
 * The servers of every Gateway for this proxy, merged per listener as Istio's MergeGateways does: servers on
 * one port share its listener; one that disagrees with the port's first server on HTTP vs HTTPS is dropped.
 */
export function gatewayPorts(input: TranslateInput): GatewayPort[] {
  const ports = new Map<string, GatewayPort>();
  for (const gateway of gatewaysFor(input)) {
    const gatewayName = `${gateway.metadata.namespace}/${gateway.metadata.name}`;
    for (const server of gateway.spec?.servers ?? []) {
      const kind = server ? serverKind(server) : undefined;
      const port = server?.port?.number;
      if (!kind || typeof port !== 'number' || port <= 0) continue;
      const bind = server.bind && !server.bind.startsWith('unix://') ? server.bind : WILDCARD_ADDRESS;
      const listen = listenPort(input, port);
      const key = `${bind}_${listen}`;
      let entry = ports.get(key);
      if (!entry) ports.set(key, (entry = { bind, port: listen, kind, servers: [] }));
      if (entry.kind !== kind) continue;
      entry.servers.push({ gateway, server, gatewayName, kind, port, listenPort: listen, bind });
    }
  }
  return [...ports.values()];
}

/**
 * The port a server is served on. A Gateway port may name a port of the gateway's own Service (one in its
 * namespace selecting it): the gateway then listens on that port's target port, as Istio's MergeGateways
 * translates it (`80` -> `8080` behind the default `istio-ingressgateway` Service, so no privileged port is
 * needed). Otherwise the port as written.
 */
export function listenPort(input: TranslateInput, port: number): number {
  const { proxy, registry } = input;
  for (const service of registry.services) {
    if (service.namespace !== proxy.namespace || !service.selector || !labelsMatch(proxy.labels, service.selector)) continue;
    const p = service.ports.find((sp) => sp.port === port);
    if (!p) continue;
    if (typeof p.targetPort === 'number') return p.targetPort;
    const named = proxy.ports.find((c) => c.name === p.targetPort)?.containerPort;
    if (named) return named;
  }
  return port;
}

/** Istio's listener name for a gateway port: `0.0.0.0_8080`. */
export const gatewayListenerName = (p: { bind: string; port: number }) => `${p.bind}_${p.port}`;

/**
 * Route configuration names as Istio's gatewayRDSRouteName writes them: `http.PORT` for every plain HTTP
 * server of a port (they share one), `https.PORT.PORTNAME.GATEWAY.NAMESPACE` for each TLS-terminating server.
 */
export function gatewayRouteName(s: GatewayServer): string {
  if (s.kind === 'http') return `http.${s.listenPort}`;
  return `https.${s.port}.${s.server.port.name ?? ''}.${s.gateway.metadata.name}.${s.gateway.metadata.namespace}`;
}
