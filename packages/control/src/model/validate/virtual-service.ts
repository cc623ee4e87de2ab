/** VirtualService (Istio's ValidateVirtualService). */
import type { L4MatchAttributes, TCPRoute, TLSRoute, VirtualServiceSpec } from '../istio-types.js';
import { each, type ValidationContext } from './context.js';
import { validateExportTo } from './export-to.js';
import { MESH_GATEWAY, validateGatewayNames } from './gateway-names.js';
import { isJwtClaimRoute } from './headers.js';
import { hostSubsetOf, hostsOverlap, isIPAddress, validateGatewayVirtualHost, validateIPSubnet, validateWildcardDomain } from './hosts.js';
import { validateHTTPRoute, validateRouteDestinations } from './http-route.js';
import { validateLabels } from './labels.js';
import type { FieldPath } from './path.js';
import { validatePort } from './ports.js';
import type { Reporter } from './reporter.js';
import { warnUnreachableRules } from './unreachable-rules.js';

export function validateVirtualService(spec: VirtualServiceSpec, ctx: ValidationContext, path: FieldPath): void {
  const { r } = ctx;
  const hosts = spec.hosts ?? [];
  const isDelegate = hosts.length === 0;
  if (isDelegate) {
    // A VirtualService without hosts is a delegate: only another VirtualService's `delegate` uses it.
    if (spec.gateways?.length) r.error([...path, 'gateways'], 'delegate virtual service must have no gateways specified');
    if (spec.tls?.length) r.error([...path, 'tls'], 'delegate virtual service must have no tls route specified');
    if (spec.tcp?.length) r.error([...path, 'tcp'], 'delegate virtual service must have no tcp route specified');
  }

  const gateways = spec.gateways ?? [];
  const appliesToGateway = gateways.length > 0 && !gateways.includes(MESH_GATEWAY);
  validateGatewayNames(spec.gateways, [...path, 'gateways'], r);
  if (!appliesToGateway) checkJwtClaimRoutes(spec, path, r);

  validateHosts(spec, appliesToGateway, path, r);

  if (!spec.http?.length && !spec.tcp?.length && !spec.tls?.length) {
    r.error(path, 'http, tcp or tls must be provided in virtual service');
  }
  each(spec.http, [...path, 'http'], (route, at) => validateHTTPRoute(route, isDelegate, at, r));
  each(spec.tls, [...path, 'tls'], (route, at) => validateTLSRoute(route, spec, appliesToGateway, at, r));
  each(spec.tcp, [...path, 'tcp'], (route, at) => validateTCPRoute(route, at, r));
  validateExportTo(spec.exportTo, ctx.namespace, [...path, 'exportTo'], r);

  warnUnreachableRules(spec.http, [...path, 'http'], r);
  warnUnreachableRules(spec.tcp, [...path, 'tcp'], r);
  warnUnreachableRules(spec.tls, [...path, 'tls'], r);
}

function checkJwtClaimRoutes(spec: VirtualServiceSpec, path: FieldPath, r: Reporter): void {
  each(spec.http, [...path, 'http'], (route, routeAt) => {
    each(route.match, [...routeAt, 'match'], (m, at) => {
      for (const field of ['headers', 'withoutHeaders'] as const) {
        for (const key of Object.keys(m[field] ?? {})) {
          if (isJwtClaimRoute(key)) r.error([...at, field, key], `JWT claim based routing (key: ${key}) is only supported for gateway`);
        }
      }
    });
  });
}

function validateHosts(spec: VirtualServiceSpec, appliesToGateway: boolean, path: FieldPath, r: Reporter): void {
  const hosts = spec.hosts ?? [];
  const sni = (spec.tls ?? []).some((t) => t?.match?.some((m) => (m?.sniHosts?.length ?? 0) > 0));
  let allValid = true;
  each(hosts, [...path, 'hosts'], (host, at) => {
    const err = appliesToGateway ? validateGatewayVirtualHost(host, sni) : validateWildcardDomain(host);
    if (err) {
      if (!isIPAddress(host)) {
        r.error(at, err);
        allValid = false;
      }
    } else if (!appliesToGateway && host === '*') {
      r.error(at, 'wildcard host * is not allowed for virtual services bound to the mesh gateway');
      allValid = false;
    }
  });
  if (!allValid) return;
  for (let i = 0; i < hosts.length; i++) {
    for (let j = i + 1; j < hosts.length; j++) {
      const [a, b] = [hosts[i], hosts[j]];
      if (a && b && hostsOverlap(a, b)) r.error([...path, 'hosts', j], `duplicate hosts in virtual service: ${a} & ${b}`);
    }
  }
}

function validateTLSRoute(tls: TLSRoute, spec: VirtualServiceSpec, appliesToGateway: boolean, path: FieldPath, r: Reporter): void {
  if (!tls.match?.length) r.error([...path, 'match'], 'TLS route must have at least one match condition');
  each(tls.match, [...path, 'match'], (m, at) => {
    if (!m.sniHosts?.length) r.error([...at, 'sniHosts'], 'TLS match must have at least one SNI host');
    each(m.sniHosts, [...at, 'sniHosts'], (sni, sniAt) => validateSniHost(sni, spec, appliesToGateway, sniAt, r));
    validateL4Match(m, at, r);
  });
  if (!tls.route?.length) r.error([...path, 'route'], 'TLS route is required');
  validateRouteDestinations(tls.route, [...path, 'route'], r);
}

function validateSniHost(sni: string, spec: VirtualServiceSpec, appliesToGateway: boolean, path: FieldPath, r: Reporter): void {
  const err = appliesToGateway ? validateGatewayVirtualHost(sni, true) : validateWildcardDomain(sni);
  if (err) {
    if (isIPAddress(sni)) r.warn(path, `using an IP address ("${sni}") goes against SNI spec and most clients do not support this`);
    else r.error(path, err);
    return;
  }
  const hosts = spec.hosts ?? [];
  if (!hosts.some((h) => h !== null && hostSubsetOf(sni, h))) {
    r.error(path, `SNI host "${sni}" is not a compatible subset of any of the virtual service hosts: [${hosts.join(', ')}]`);
  }
}

function validateTCPRoute(tcp: TCPRoute, path: FieldPath, r: Reporter): void {
  each(tcp.match, [...path, 'match'], (m, at) => validateL4Match(m, at, r));
  if (!tcp.route?.length) r.error([...path, 'route'], 'TCP route is required');
  validateRouteDestinations(tcp.route, [...path, 'route'], r);
}

function validateL4Match(m: L4MatchAttributes, path: FieldPath, r: Reporter): void {
  each(m.destinationSubnets, [...path, 'destinationSubnets'], (subnet, at) => {
    const err = validateIPSubnet(subnet);
    if (err) r.error(at, err);
  });
  if (m.port !== undefined && m.port !== 0) validatePort(m.port, [...path, 'port'], r);
  validateLabels(m.sourceLabels, [...path, 'sourceLabels'], r);
  validateGatewayNames(m.gateways, [...path, 'gateways'], r);
}
