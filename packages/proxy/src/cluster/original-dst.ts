import { isIP } from 'node:net';
import type { LbConfig } from '../config/compiled-config.js';
import { headerValue } from '../router/route-request.js';
import { hostPort } from '../upstream/upstream-pools.js';
import type { Host } from './host.js';
import type { LoadBalancer, LoadBalancerContext } from './load-balancer.js';

type OriginalDstConfig = Extract<LbConfig, { kind: 'original_dst' }>;

/** Makes the run-time Host for an address an ORIGINAL_DST cluster discovered (stats, pools set up). */
export type HostFactory = (ip: string, port: number) => Host;

/**
 * Envoy's ORIGINAL_DST cluster with its CLUSTER_PROVIDED balancer (Istio's PASSTHROUGH): the request goes
 * where the caller meant it to go. Envoy reads the connection's original destination (iptables REDIRECT);
 * in Trellis' local mode apps use the sidecar as an HTTP proxy, so the original destination is the
 * request's authority, which must be an IP literal (port 80 when absent). With
 * `original_dst_lb_config.use_http_header`, the header (default `x-envoy-original-dst-host`, `ip:port`)
 * takes precedence, and an invalid value gets no host (503 UH) as in Envoy. Hosts are made on first use
 * and forgotten after a `cleanup_interval` without requests. The destination is whatever the caller
 * named, so outlier ejection has nothing to choose between: these hosts have no outlier monitor.
 */
export class OriginalDstLoadBalancer implements LoadBalancer {
  private readonly hosts = new Map<string, Host>();
  private readonly used = new Set<string>();
  private lastCleanup = performance.now();

  constructor(
    private readonly config: OriginalDstConfig,
    private readonly makeHost: HostFactory,
  ) {}

  chooseHost(ctx: LoadBalancerContext | null): Host | null {
    if (ctx === null) return null;
    this.cleanup();
    let dst: { ip: string; port: number } | null;
    const header = this.config.httpHeaderName === null ? undefined : headerValue(ctx, this.config.httpHeaderName);
    if (header !== undefined) dst = parseIpPort(header, null);
    else dst = parseIpPort(ctx.authority, ctx.scheme === 'https' ? 443 : 80);
    if (dst === null) return null;
    const port = this.config.portOverride ?? dst.port;
    const key = hostPort(dst.ip, port);
    let host = this.hosts.get(key);
    if (!host) {
      host = this.makeHost(dst.ip, port);
      this.hosts.set(key, host);
    }
    this.used.add(key);
    return host;
  }

  /** The hosts made so far (for /clusters and for keeping their connection pools). */
  get dynamicHosts(): readonly Host[] {
    return [...this.hosts.values()];
  }

  /** Envoy's cleanup timer, run lazily: hosts not used since the previous cleanup are dropped. */
  private cleanup(): void {
    const now = performance.now();
    if (now - this.lastCleanup < this.config.cleanupIntervalMs) return;
    this.lastCleanup = now;
    for (const key of this.hosts.keys()) if (!this.used.has(key)) this.hosts.delete(key);
    this.used.clear();
  }
}

/** `ip:port`, `[v6]:port`, or (with a default port) a bare IP literal; null for anything else. */
export function parseIpPort(s: string, defaultPort: number | null): { ip: string; port: number } | null {
  let ip: string;
  let portText: string | null = null;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return null;
    ip = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return null;
      portText = rest.slice(1);
    }
    if (isIP(ip) !== 6) return null;
  } else {
    const colon = s.lastIndexOf(':');
    if (colon >= 0 && s.indexOf(':') === colon) {
      ip = s.slice(0, colon);
      portText = s.slice(colon + 1);
    } else {
      ip = s;
    }
    if (isIP(ip) !== 4) return null;
  }
  if (portText === null) return defaultPort === null ? null : { ip, port: defaultPort };
  if (!/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  return port >= 1 && port <= 65535 ? { ip, port } : null;
}
