import type { EnvoyJson } from '@trellis/envoy-api';
import type { HTTPMatchRequest, HTTPRoute } from '../model/istio-types.js';
import type { VirtualService } from '../model/objects.js';
import { hostForms } from '../registry/hosts.js';
import { isHttpProtocol } from '../registry/protocol.js';
import type { MeshService, ServicePortInfo } from '../registry/types.js';
import { INBOUND_PORT_HEADER, inboundClusterName, VIRTUAL_INBOUND, VIRTUAL_OUTBOUND } from './names.js';
import { actionFields, type RouteContext } from './route-action.js';
import { perFilterConfig } from './route-filters.js';
import { matchApplies, routeMatch, type MatchContext } from './route-match.js';
import { gatewayRouteConfigurations } from './gateway/routes.js';
import { inboundPorts, resolveNamedTarget } from './targets.js';
import type { NamedResource, TranslateInput } from './types.js';
import { compact } from './values.js';
import { httpRoutesOf, virtualServiceFor } from './virtual-services.js';

/** A match that lets every request through: Istio stops translating routes after one. */
function isCatchAll(m: HTTPMatchRequest | undefined): boolean {
  if (!m) return true;
  const uri = m.uri;
  const anyPath = !uri || uri.prefix === '/' || uri.regex === '.*';
  const empty = (r: object | undefined) => !r || Object.keys(r).length === 0;
  return anyPath && empty(m.headers) && empty(m.withoutHeaders) && empty(m.queryParams) && !m.method && !m.authority && !m.scheme;
}

function routeName(http: HTTPRoute, m: HTTPMatchRequest | undefined): string | undefined {
  return [http.name, m?.name].filter(Boolean).join('.') || undefined;
}

/** The route when no VirtualService applies: everything to the service port's cluster, with Istio's defaults. */
function defaultRoutes(input: TranslateInput, service: MeshService, port: number): EnvoyJson[] {
  const ctx: RouteContext = { input, namespace: service.namespace, port };
  const action = actionFields(ctx, { route: [{ destination: { host: service.hostname, port: { number: port } } }] })!;
  return [{ name: 'default', match: { prefix: '/' }, ...action.fields }];
}

/**
 * Envoy routes for one service port, from the VirtualService that applies (Istio's
 * BuildHTTPRoutesForVirtualService): each match becomes its own route (matches are ORed), in order.
 * Without a VirtualService, or when none of its routes apply on this port, the default route.
 */
export function serviceRoutes(input: TranslateInput, service: MeshService, port: number): EnvoyJson[] {
  const vs = virtualServiceFor(input, service);
  if (!vs) return defaultRoutes(input, service, port);
  const out = virtualServiceRoutes(input, vs, { port, proxy: input.proxy });
  return out.length > 0 ? out : defaultRoutes(input, service, port);
}

/**
 * A VirtualService's HTTP routes in order for one port and proxy (sidecar or gateway, told apart by the
 * match context); routes after a catch-all are left out, as Istio does. Empty when none applies.
 */
export function virtualServiceRoutes(input: TranslateInput, vs: VirtualService, mctx: MatchContext): EnvoyJson[] {
  const out: EnvoyJson[] = [];
  const ctx: RouteContext = { input, namespace: vs.metadata.namespace, port: mctx.port };
  for (const { http } of httpRoutesOf(input.config, vs)) {
    const all = (http.match ?? []).filter((m): m is HTTPMatchRequest => !!m && typeof m === 'object');
    const applicable = all.filter((m) => matchApplies(m, mctx));
    if (all.length > 0 && applicable.length === 0) continue;
    const action = actionFields(ctx, http);
    if (!action) continue;
    const perFilter = perFilterConfig(http.fault, http.corsPolicy, input.proxy.type);
    const matches = applicable.length > 0 ? applicable : [undefined];
    for (const m of matches) {
      out.push(compact({ name: routeName(http, m), match: routeMatch(m), ...action.fields, ...action.edits, typed_per_filter_config: perFilter }));
    }
    if (matches.some(isCatchAll)) break;
  }
  return out;
}

export const routeConfiguration = (name: string, virtual_hosts: EnvoyJson[]): NamedResource => ({
  name,
  // Routes may name clusters that don't exist (yet): Envoy answers 503 for those instead of rejecting all.
  resource: { name, virtual_hosts, validate_clusters: { value: false } },
});

/** Ports a virtual host routes: the HTTP family (the mesh proxies HTTP; TLS and TCP pass through). */
const httpPorts = (s: MeshService) => s.ports.filter((p) => isHttpProtocol(p.protocol));

/** Whether a port also answers to the bare host (no `:port`): port 80, else the service's first HTTP port. */
function takesBareHost(service: MeshService, port: ServicePortInfo): boolean {
  const http = httpPorts(service);
  return port.port === 80 || (!http.some((p) => p.port === 80) && http[0] === port);
}

/**
 * The sidecar's outbound routes: one virtual host per HTTP service port, named `host:port`, answering to
 * every form of the host with the port, and without it for the port the bare name means. A domain already
 * claimed by an earlier virtual host is left out: Envoy rejects duplicates across virtual hosts.
 */
export function outboundRouteConfiguration(input: TranslateInput): NamedResource {
  const used = new Set<string>();
  const vhosts: EnvoyJson[] = [];
  for (const service of input.registry.services) {
    for (const port of httpPorts(service)) {
      const forms = hostForms(service, input.proxy.namespace);
      const candidates = [...forms.map((f) => `${f}:${port.port}`), ...(takesBareHost(service, port) ? forms : [])];
      const domains = candidates.filter((d) => !used.has(d) && (used.add(d), true));
      if (domains.length === 0) continue;
      vhosts.push({ name: `${service.hostname}:${port.port}`, domains, routes: serviceRoutes(input, service, port.port) });
    }
  }
  return routeConfiguration(VIRTUAL_OUTBOUND, vhosts);
}

/**
 * The sidecar's inbound routes: the calling sidecar names the app port in a header (taken from endpoint
 * metadata); without it, the first app port. The header is the mesh's business, so the app never sees it.
 */
export function inboundRouteConfiguration(input: TranslateInput): NamedResource {
  const ports = inboundPorts(input);
  const to = (port: number) => ({ cluster: inboundClusterName(port), timeout: { seconds: 0 } });
  const routes: EnvoyJson[] = ports.map((port) => ({
    name: `inbound|${port}`,
    match: { prefix: '/', headers: [{ name: INBOUND_PORT_HEADER, string_match: { exact: String(port) } }] },
    route: to(port),
  }));
  if (ports.length > 0) routes.push({ name: 'default', match: { prefix: '/' }, route: to(ports[0]!) });
  return routeConfiguration(VIRTUAL_INBOUND, [
    { name: 'inbound|http|*', domains: ['*'], routes, request_headers_to_remove: [INBOUND_PORT_HEADER] },
  ]);
}

/**
 * The route configuration behind a proxyless gRPC client's api_listener, named as it subscribed (the
 * target host): one virtual host answering to that name and to the service's host forms.
 */
export function namedRouteConfiguration(input: TranslateInput, name: string): NamedResource | undefined {
  const target = resolveNamedTarget(input, name);
  if (!target) return undefined;
  const { service, port } = target;
  const forms = hostForms(service, input.proxy.namespace);
  const domains = [...new Set([name, ...forms.map((f) => `${f}:${port.port}`), ...forms])];
  return routeConfiguration(name, [
    { name: `${service.hostname}:${port.port}`, domains, routes: serviceRoutes(input, service, port.port) },
  ]);
}

/** RDS: a gateway's route configurations (its listeners name them), all or the named ones. */
function gatewayRoutes(input: TranslateInput, names: readonly string[] | null): NamedResource[] {
  const all = gatewayRouteConfigurations(input);
  if (names === null) return all;
  const wanted = new Set(names);
  return all.filter((r) => wanted.has(r.name));
}

/** RDS: the sidecar's two route configurations, a gateway's, or the named ones asked for. */
export function generateRoutes(input: TranslateInput, names: readonly string[] | null): NamedResource[] {
  if (input.proxy.type === 'router') return gatewayRoutes(input, names);
  const isSidecar = input.proxy.type === 'sidecar';
  if (names === null) {
    if (input.proxy.type === 'grpc') return [];
    return isSidecar ? [outboundRouteConfiguration(input), inboundRouteConfiguration(input)] : [outboundRouteConfiguration(input)];
  }
  return [...new Set(names)].flatMap((name) => {
    if (name === VIRTUAL_OUTBOUND) return [outboundRouteConfiguration(input)];
    if (name === VIRTUAL_INBOUND) return isSidecar ? [inboundRouteConfiguration(input)] : [];
    const named = namedRouteConfiguration(input, name);
    return named ? [named] : [];
  });
}
