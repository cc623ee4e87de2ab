import type { VirtualService } from '../../model/objects.js';
import { kubeServiceFqdn, wildcardMatches } from '../../registry/hosts.js';
import type { GatewayServer } from './servers.js';

/** A Gateway server host split into the namespace whose VirtualServices it admits (`*` = any) and the host. */
export interface ServerHost {
  namespace: string;
  host: string;
}

/** `ns/host`, `./host` (the Gateway's own namespace), `*\/host` or a plain `host` (any namespace). */
export function parseServerHost(raw: string, gatewayNamespace: string): ServerHost {
  const slash = raw.indexOf('/');
  if (slash < 0) return { namespace: '*', host: raw.toLowerCase() };
  const ns = raw.slice(0, slash);
  return { namespace: ns === '.' ? gatewayNamespace : ns, host: raw.slice(slash + 1).toLowerCase() };
}

/** The server's hosts without their namespace part: what SNI matching sees. */
export function serverHostNames(s: GatewayServer): string[] {
  return (s.server.hosts ?? []).filter((h): h is string => typeof h === 'string' && h !== '').map((h) => parseServerHost(h, s.gateway.metadata.namespace).host);
}

/** A VirtualService host as Istio resolves it: short names relative to the VirtualService's namespace. */
function resolveVsHost(host: string, namespace: string): string {
  const h = host.toLowerCase();
  return h === '*' || h.includes('.') ? h : kubeServiceFqdn(h, namespace);
}

/** Whether host `a` lies within host `b` (equal, or matched by `b`'s wildcard). */
function within(a: string, b: string): boolean {
  if (a === b || b === '*') return true;
  if (!b.startsWith('*.')) return false;
  return a.startsWith('*.') ? a.endsWith(b.slice(1)) : wildcardMatches(b, a);
}

/**
 * The hosts a VirtualService serves on a gateway server: each of its hosts that overlaps a server host the
 * VirtualService's namespace may use, narrowed to the more specific of the two (Istio's
 * pickMatchingGatewayHosts). A request for any other host finds no virtual host: 404.
 */
export function matchingHosts(vs: VirtualService, server: GatewayServer): string[] {
  const ns = vs.metadata.namespace;
  const serverHosts = (server.server.hosts ?? [])
    .filter((h): h is string => typeof h === 'string' && h !== '')
    .map((h) => parseServerHost(h, server.gateway.metadata.namespace))
    .filter((h) => h.namespace === '*' || h.namespace === ns);
  const out = new Set<string>();
  for (const raw of vs.spec?.hosts ?? []) {
    if (typeof raw !== 'string' || raw === '') continue;
    const vsHost = resolveVsHost(raw, ns);
    for (const { host } of serverHosts) {
      if (within(vsHost, host)) out.add(vsHost);
      else if (within(host, vsHost)) out.add(host);
    }
  }
  return [...out];
}
