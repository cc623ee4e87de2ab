import { promises as dns } from 'node:dns';
import type { ClusterConfig, EndpointConfig } from '../config/compiled-config.js';

/** One endpoint of a DNS cluster resolved to one address. */
export interface ResolvedEndpoint {
  readonly ip: string;
  readonly endpoint: EndpointConfig;
  readonly localityIndex: number;
}

/**
 * Envoy's dns_lookup_family: AUTO prefers IPv6 and falls back to IPv4, V4_PREFERRED the reverse, ALL keeps
 * both, V4_ONLY / V6_ONLY one family.
 */
function pickFamily(addresses: { address: string; family: number }[], policy: ClusterConfig['dnsLookupFamily']): string[] {
  const v4 = addresses.filter((a) => a.family === 4).map((a) => a.address);
  const v6 = addresses.filter((a) => a.family === 6).map((a) => a.address);
  switch (policy) {
    case 'V4_ONLY':
      return v4;
    case 'V6_ONLY':
      return v6;
    case 'AUTO':
      return v6.length > 0 ? v6 : v4;
    case 'V4_PREFERRED':
      return v4.length > 0 ? v4 : v6;
    case 'ALL':
      return [...v4, ...v6];
  }
}

/**
 * Re-resolves a STRICT_DNS / LOGICAL_DNS cluster's host names every `dns_refresh_rate` and reports the
 * addresses (STRICT_DNS: every address; LOGICAL_DNS: the first). Lookups never block the event loop; a failed
 * lookup keeps the previous addresses, as Envoy does.
 */
export class DnsResolver {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private last = new Map<string, string[]>();

  constructor(
    private readonly config: ClusterConfig,
    private readonly onResolved: (endpoints: ResolvedEndpoint[]) => void,
    private readonly log: (msg: string) => void,
  ) {}

  start(): void {
    void this.resolve();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async resolve(): Promise<void> {
    const names = new Set(this.config.localities.flatMap((l) => l.endpoints.map((e) => e.address)));
    await Promise.all(
      [...names].map(async (name) => {
        try {
          const found = await dns.lookup(name, { all: true });
          this.last.set(name, pickFamily(found, this.config.dnsLookupFamily));
        } catch (err) {
          this.log(`cluster ${this.config.name}: DNS lookup of ${name} failed: ${(err as Error).message}`);
        }
      }),
    );
    if (this.stopped) return;
    this.onResolved(this.endpoints());
    this.timer = setTimeout(() => void this.resolve(), this.config.dnsRefreshRateMs);
    this.timer.unref();
  }

  private endpoints(): ResolvedEndpoint[] {
    const out: ResolvedEndpoint[] = [];
    this.config.localities.forEach((loc, localityIndex) => {
      for (const endpoint of loc.endpoints) {
        const ips = this.last.get(endpoint.address) ?? [];
        const use = this.config.discoveryType === 'LOGICAL_DNS' ? ips.slice(0, 1) : ips;
        for (const ip of use) out.push({ ip, endpoint, localityIndex });
      }
    });
    return out;
  }
}
