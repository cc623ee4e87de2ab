import type { ConnectionPool } from './connection-pool.js';
import { Http1Pool } from './http1-pool.js';
import { Http2Pool } from './http2-pool.js';

/** What identifies a pool: protocol, endpoint and connect timeout (`h1|10.0.0.1:8080|5000`). */
export function poolKey(protocol: 'http1' | 'http2', address: string, port: number, connectTimeoutMs: number): string {
  return `${protocol === 'http1' ? 'h1' : 'h2'}|${hostPort(address, port)}|${connectTimeoutMs}`;
}

export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Connection pools shared by every cluster and snapshot, created on first use. A snapshot swap keeps the
 * pools of endpoints that are still there (their keep-alive connections survive) and closes the others
 * gracefully once their requests are done.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, ConnectionPool>();

  get(key: string, protocol: 'http1' | 'http2', address: string, port: number, connectTimeoutMs: number): ConnectionPool {
    let pool = this.pools.get(key);
    if (!pool) {
      const origin = `http://${hostPort(address, port)}`;
      pool = protocol === 'http1' ? new Http1Pool(origin, connectTimeoutMs) : new Http2Pool(origin, connectTimeoutMs);
      this.pools.set(key, pool);
    }
    return pool;
  }

  peek(key: string): ConnectionPool | undefined {
    return this.pools.get(key);
  }

  /** Closes (gracefully) every pool whose key isn't live any more. */
  sweep(live: ReadonlySet<string>): void {
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
