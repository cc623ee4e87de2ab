import type { VirtualHost } from './virtual-host.js';

/**
 * A compiled RouteConfiguration: virtual hosts found by the request's authority with Envoy's rules —
 * exact domain first, then suffix wildcards (`*.foo.com`, longest first), then prefix wildcards (`foo.*`,
 * longest first), then `*`. Matching is case-insensitive and includes the port unless
 * `ignore_port_in_host_matching` is set; a wildcard matches at least one character.
 */
export class RouteTable {
  private readonly exact = new Map<string, VirtualHost>();
  /** [wildcard-less suffix length, suffix -> host], longest first. */
  private readonly suffixes: [number, Map<string, VirtualHost>][] = [];
  private readonly prefixes: [number, Map<string, VirtualHost>][] = [];
  private defaultHost: VirtualHost | null = null;

  constructor(
    readonly name: string,
    readonly virtualHosts: readonly VirtualHost[],
    readonly ignorePortInHostMatching: boolean,
  ) {
    for (const vh of virtualHosts) for (const d of vh.domains) this.add(d.toLowerCase(), vh);
    this.suffixes.sort((a, b) => b[0] - a[0]);
    this.prefixes.sort((a, b) => b[0] - a[0]);
  }

  /** Files one domain (the compiler has already refused duplicates; were one to slip by, the first wins). */
  private add(domain: string, vh: VirtualHost): void {
    if (domain === '*') this.defaultHost ??= vh;
    else if (domain.startsWith('*')) fileByLength(this.suffixes, domain.slice(1), vh);
    else if (domain.endsWith('*')) fileByLength(this.prefixes, domain.slice(0, -1), vh);
    else if (!this.exact.has(domain)) this.exact.set(domain, vh);
  }

  findVirtualHost(authority: string): VirtualHost | null {
    let host = authority.toLowerCase();
    if (this.ignorePortInHostMatching) host = stripPort(host);
    const exact = this.exact.get(host);
    if (exact) return exact;
    for (const [len, byDomain] of this.suffixes) {
      if (host.length > len) {
        const vh = byDomain.get(host.slice(host.length - len));
        if (vh) return vh;
      }
    }
    for (const [len, byDomain] of this.prefixes) {
      if (host.length > len) {
        const vh = byDomain.get(host.slice(0, len));
        if (vh) return vh;
      }
    }
    return this.defaultHost;
  }
}

function fileByLength(groups: [number, Map<string, VirtualHost>][], key: string, vh: VirtualHost): void {
  let group = groups.find((g) => g[0] === key.length);
  if (!group) groups.push((group = [key.length, new Map()]));
  if (!group[1].has(key)) group[1].set(key, vh);
}

/** `host:port` -> `host`; IPv6 literals keep their brackets. */
export function stripPort(host: string): string {
  const colon = host.lastIndexOf(':');
  if (colon < 0) return host;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf(']');
    return close > 0 && colon > close ? host.slice(0, colon) : host;
  }
  return host.indexOf(':') === colon ? host.slice(0, colon) : host;
}
