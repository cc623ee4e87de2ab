/**
 * Host names as Istio validates them (pkg/config/validation/agent): DNS-1123 labels, FQDNs, a wildcard
 * only as the whole first label (`*`, `*.example.com`, `*-foo.example.com`), IP addresses, and the
 * `namespace/host` form of Gateway servers.
 */
import { isIP } from 'node:net';

// Istio's label rule accepts upper case (Kubernetes' does not; see kube-names.ts).
const DNS1123_LABEL = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const WILDCARD_LABEL = /^(?:\*|(?:\*|\*-)?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$/;

export function isDNS1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

function isWildcardDNS1123Label(s: string): boolean {
  return s.length <= 63 && WILDCARD_LABEL.test(s);
}

function preconditions(name: string): string | undefined {
  if (name.length > 255) return `domain name "${name}" too long (max 255)`;
  if (name.length === 0) return 'empty domain name not allowed';
  return undefined;
}

/** Checks the labels of `labels` (all of `domain`, or what follows a wildcard); messages name the whole domain. */
function dns1123Labels(domain: string, labels = domain): string | undefined {
  const parts = labels.split('.');
  const tld = parts[parts.length - 1]!;
  if (/^[+-]?[0-9]+$/.test(tld)) return `domain name "${domain}" invalid (top level domain "${tld}" cannot be all-numeric)`;
  for (const [i, label] of parts.entries()) {
    if (i === parts.length - 1 && label === '') return undefined; // "istio.io." is unambiguous
    if (!isDNS1123Label(label)) return `domain name "${domain}" invalid (label "${label}" invalid)`;
  }
  return undefined;
}

/** A fully-qualified (or short) domain name with no wildcard; the error message, or undefined. */
export function validateFQDN(fqdn: string): string | undefined {
  return preconditions(fqdn) ?? dns1123Labels(fqdn);
}

/** A domain name whose first label may be a wildcard; the error message, or undefined. */
export function validateWildcardDomain(domain: string): string | undefined {
  const pre = preconditions(domain);
  if (pre) return pre;
  const dot = domain.indexOf('.');
  const first = dot < 0 ? domain : domain.slice(0, dot);
  if (!isWildcardDNS1123Label(first)) return `domain name "${domain}" invalid (label "${first}" invalid)`;
  return dot < 0 ? undefined : dns1123Labels(domain, domain.slice(dot + 1));
}

/** Like validateWildcardDomain, but TLS routes on gateways may use the `outbound_.PORT_._.HOST` SNI form. */
export function validateGatewayVirtualHost(domain: string, sni: boolean): string | undefined {
  if (sni && domain.startsWith('outbound_')) {
    const parts = domain.split('_');
    const format = 'outbound_.<PORT>_._.<HOSTNAME>';
    if (parts.length < 4) return `domain name ${domain} invalid, should follow '${format}' format`;
    const port = parts[1]!.replace(/^\.+|\.+$/g, '');
    const hostname = parts[3]!.replace(/^\.+|\.+$/g, '');
    if (!/[0-9]/.test(port)) return `domain name "${domain}" invalid (label "${port}" invalid). should follow ${format} format`;
    if (!/[a-zA-Z]/.test(hostname)) return `domain name "${domain}" invalid (label "${hostname}" invalid). should follow ${format} format`;
    return undefined;
  }
  return validateWildcardDomain(domain);
}

export function validatePartialWildcard(host: string): string | undefined {
  if (host.includes('*') && host.length !== 1 && !host.startsWith('*.')) return `partial wildcard "${host}" not allowed`;
  return undefined;
}

export function isIPAddress(s: string): boolean {
  return isIP(s) !== 0;
}

/** An IP address or a CIDR block; the error message, or undefined. */
export function validateIPSubnet(subnet: string): string | undefined {
  const parts = subnet.split('/');
  if (parts.length === 2) {
    const [ip, bits] = parts as [string, string];
    const family = isIP(ip);
    const max = family === 6 ? 128 : 32;
    if (family === 0 || !/^[0-9]+$/.test(bits) || Number(bits) > max) return `${subnet} is not a valid CIDR block`;
    return undefined;
  }
  return isIP(subnet) === 0 ? `${subnet} is not a valid IP` : undefined;
}

/** Hosts of Gateway servers: `host` or `namespace/host`; errors, empty when valid. */
export function validateGatewayServerHost(hostname: string): string[] {
  const slash = hostname.indexOf('/');
  if (slash < 0) return gatewayHostPart(hostname);
  const [ns, host] = [hostname.slice(0, slash), hostname.slice(slash + 1)];
  const errs: string[] = [];
  if (ns === '' || host === '') errs.push('config namespace and dnsName in host entry cannot be empty');
  if (ns !== '*' && ns !== '.' && !isDNS1123Label(ns)) errs.push(`invalid namespace value "${ns}" in gateway`);
  return [...errs, ...gatewayHostPart(host)];
}

function gatewayHostPart(hostname: string): string[] {
  const errs: string[] = [];
  if (hostname !== '*' && !hostname.includes('.')) errs.push('short names (non FQDN) are not allowed');
  const err = validateWildcardDomain(hostname);
  if (err && !isIPAddress(hostname)) errs.push(err); // gateways accept an IP as the host
  const partial = validatePartialWildcard(hostname);
  if (partial) errs.push(partial);
  return errs;
}

/** Istio's host.Name.Matches: equal, or one is a wildcard covering the other. */
export function hostsOverlap(a: string, b: string): boolean {
  const aWild = a.startsWith('*');
  const bWild = b.startsWith('*');
  if (aWild && bWild) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (aWild) return b.endsWith(a.slice(1));
  if (bWild) return a.endsWith(b.slice(1));
  return a === b;
}

/** Istio's host.Name.SubsetOf: every name `n` covers is also covered by `o`. */
export function hostSubsetOf(n: string, o: string): boolean {
  if (n.startsWith('*')) return o.startsWith('*') && n.slice(1).endsWith(o.slice(1));
  if (o.startsWith('*')) return n.endsWith(o.slice(1));
  return n === o;
}
