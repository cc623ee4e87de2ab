import type { ConnectionPool } from './connection-pool.js';
import { Http1Pool } from './http1-pool.js';
import { Http2Pool } from './http2-pool.js';
import { defaultPoolSettings, type PoolSettings } from './pool-settings.js';

/**
 * What identifies a pool: protocol, endpoint, connect timeout and scope (the cluster and its fixed pool
 * settings: `h1|10.0.0.1:8080|5000|outbound|8080||a.ns.svc.cluster.local|...`).
 */
export function poolKey(protocol: 'http1' | 'http2', address: string, port: number, connectTimeoutMs: number, scope = ''): string {
  return `${protocol === 'http1' ? 'h1' : 'h2'}|${hostPort(address, port)}|${connectTimeoutMs}|${scope}`;
}

export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Connection pools of every cluster, kept across snapshots and created on first use; each cluster's
 * endpoints get pools of their own (settings given by `define`). A snapshot swap keeps the pools of
 * endpoints that are still there (their keep-alive connections survive) and closes the others gracefully
 * once their requests are done.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, ConnectionPool>();
  private readonly settings = new Map<string, PoolSettings>();

  /** Describes the pool `key` will get (the cluster manager does this for every host it makes). */
  define(key: string, settings: PoolSettings): void {
    this.settings.set(key, settings);
  }

  get(key: string, protocol: 'http1' | 'http2', address: string, port: number, connectTimeoutMs: number): ConnectionPool {
    let pool = this.pools.get(key);
    if (!pool) {
      const settings = this.settings.get(key) ?? defaultPoolSettings(connectTimeoutMs);
      const origin = `${settings.tls ? 'https' : 'http'}://${hostPort(address, port)}`;
      pool = protocol === 'http1' ? new Http1Pool(origin, settings) : new Http2Pool(origin, settings);
      this.pools.set(key, pool);
    }
    return pool;
  }

  peek(key: string): ConnectionPool | undefined {
    return this.pools.get(key);
  }

  /** Closes (gracefully) every pool whose key isn't live any more. */
  sweep(live: ReadonlySet<string>): void {
    for (const key of this.settings.keys()) if (!live.has(key)) this.settings.delete(key);
    for (const [key, pool] of this.pools) {
      if (live.has(key)) continue;
      this.pools.delete(key);
      void pool.close();
    }
  }

  async closeAll(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.close()));
  }

  destroyAll(): void {
    for (const p of this.pools.values()) p.destroy();
    this.pools.clear();
  }
}
