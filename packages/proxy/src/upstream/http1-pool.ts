import type {
  ConnectionPool,
  ConnectionPoolStats,
  ResetReason,
  UpstreamCallbacks,
  UpstreamRequestSpec,
  UpstreamStream,
} from './connection-pool.js';
import type { PoolSettings } from './pool-settings.js';
import { tlsConnectOptions } from './upstream-tls.js';
import { Http1ClientConnection, type ConnectOptions, type ConnectionOwner, type Exchange } from './http1/client-connection.js';

/** Keep-alive shorter than Node's default server keepAliveTimeout (5 s), so we close idle sockets first. */
const KEEP_ALIVE_MS = 4_000;

/**
 * HTTP/1.1 to one endpoint for one cluster: keep-alive connections (our own client codec, no pipelining),
 * the most recently idle one reused first, idle ones closed by a sweep after the idle timeout (or the
 * server's Keep-Alive hint, less a second). Timeouts of requests are the router's job.
 *
 * Circuit breaking as Envoy's HTTP/1 pool does it (one request per connection): a request goes out when a
 * connection is free or may be opened — at most `maxConnectionsPerHost` to this endpoint, and a new one
 * only while the cluster is under max_connections (a pool without connections may always open one).
 * Otherwise it waits here, pending, in arrival order. A request that would be pending when
 * max_pending_requests are already waiting, or active when max_requests are, fails at once with
 * `overflow` (503 UO) and counts in upstream_rq_pending_overflow. Only established connections count
 * towards the cluster's max_connections, so a burst of connects may pass it briefly.
 */
export class Http1Pool implements ConnectionPool, ConnectionOwner {
  readonly protocol = 'http1' as const;
  private readonly connect: ConnectOptions;
  private readonly idleTimeoutMs: number;
  private readonly sweepMs: number;
  private readonly hostCap: number;
  /** Every connection not yet gone (connecting, busy or idle). */
  private readonly all = new Set<Http1ClientConnection>();
  /** Idle connections, most recently used last. */
  private idle: Http1ClientConnection[] = [];
  private sweeper: NodeJS.Timeout | null = null;
  private tlsSession: Buffer | undefined;
  private cxTotal = 0;
  private cxConnectFail = 0;
  private connected = 0;
  /** Requests on a connection and not finished. */
  private inFlight = 0;
  /** Pending requests, oldest first (aborted ones are skipped when their turn comes). */
  private waiting: Http1Stream[] = [];
  private waitingHead = 0;
  private drainScheduled = false;
  /** Set by close(): resolved once no request is in flight. */
  private closing: (() => void) | null = null;
  private closed = false;
  private destroyed = false;

  constructor(
    origin: string,
    private readonly settings: PoolSettings,
  ) {
    const url = new URL(origin);
    const { maxConnectionsPerHost, maxRequestsPerConnection, idleTimeoutMs, tcpKeepaliveTimeMs } = settings;
    this.hostCap = maxConnectionsPerHost ?? Number.MAX_SAFE_INTEGER;
    this.idleTimeoutMs = idleTimeoutMs === null ? KEEP_ALIVE_MS : idleTimeoutMs === 0 ? Infinity : idleTimeoutMs;
    // Idle connections close between (timeout - sweep) and the timeout: before a server's own keep-alive ends.
    this.sweepMs = Number.isFinite(this.idleTimeoutMs) ? Math.max(5, Math.min(1000, this.idleTimeoutMs / 4)) : 0;
    this.connect = {
      host: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: Number(url.port),
      connectTimeoutMs: settings.connectTimeoutMs,
      tcpKeepaliveTimeMs,
      tls: settings.tls ? tlsConnectOptions(settings.tls) : null,
      maxRequests: maxRequestsPerConnection,
      ...(settings.tls ? { onSession: (s: Buffer) => (this.tlsSession = s) } : {}),
    };
  }

  newStream(spec: UpstreamRequestSpec, callbacks: UpstreamCallbacks): UpstreamStream {
    const h = new Http1Stream(callbacks, this, spec);
    // A retry of a request the destroy failed must not open a connection again.
    if (this.destroyed) {
      h.fail('connection_termination', new Error('upstream connection pool destroyed'));
      return h;
    }
    const { resources, stats } = this.settings;
    if (this.canDispatch(true)) {
      if (!resources.requests.canCreate()) return overflow(h, stats);
      this.dispatch(h);
    } else {
      if (!resources.pendingRequests.canCreate()) return overflow(h, stats);
      h.waiting = true;
      this.waiting.push(h);
      resources.pendingRequests.inc();
      stats.upstreamRqPendingTotal++;
      stats.upstreamRqPendingActive++;
    }
    return h;
  }

  /**
   * Whether a request may take a connection now: an idle one, or a new one within the per-host cap and
   * the cluster's max_connections (always, when this pool has none at all).
   */
  private canDispatch(counting: boolean): boolean {
    if (this.idle.length > 0 || this.closed) return true;
    if (this.all.size >= this.hostCap) return false;
    if (this.all.size === 0 || this.settings.resources.connections.canCreate()) return true;
    if (counting) this.settings.stats.upstreamCxOverflow++;
    return false;
  }

  private dispatch(h: Http1Stream): void {
    const { resources, stats } = this.settings;
    this.inFlight++;
    resources.requests.inc();
    stats.upstreamRqTotal++;
    stats.upstreamRqActive++;
    const conn = this.idle.pop() ?? this.open();
    h.conn = conn;
    conn.send(h);
  }

  private open(): Http1ClientConnection {
    const opts = this.tlsSession ? { ...this.connect, session: this.tlsSession } : this.connect;
    const conn = new Http1ClientConnection(this, opts, this.idleTimeoutMs);
    this.all.add(conn);
    return conn;
  }

  /** @internal A dispatched request is over (ended, failed or aborted). */
  onDone(): void {
    const { resources, stats } = this.settings;
    this.inFlight--;
    resources.requests.dec();
    stats.upstreamRqActive--;
    if (this.inFlight === 0 && this.closing !== null) this.closing();
    this.scheduleDrain();
  }

  /** @internal A pending request was aborted before its turn. */
  onWaitingAborted(): void {
    this.settings.resources.pendingRequests.dec();
    this.settings.stats.upstreamRqPendingActive--;
  }

  onConnected(): void {
    const { resources, stats } = this.settings;
    this.cxTotal++;
    this.connected++;
    resources.connections.inc();
    stats.upstreamCxTotal++;
    stats.upstreamCxActive++;
  }

  onIdle(conn: Http1ClientConnection): void {
    if (this.closing !== null || this.closed) return conn.close();
    conn.idleSince = Date.now();
    this.idle.push(conn);
    if (this.sweeper === null && this.sweepMs > 0) {
      this.sweeper = setInterval(() => this.sweepIdle(), this.sweepMs);
      this.sweeper.unref();
    }
    this.scheduleDrain();
  }

  onGone(conn: Http1ClientConnection, connected: boolean, err: Error | null): void {
    this.all.delete(conn);
    const i = this.idle.lastIndexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    if (connected) {
      const { resources, stats } = this.settings;
      this.connected--;
      resources.connections.dec();
      stats.upstreamCxActive--;
    } else if (err !== null) {
      this.cxConnectFail++;
      this.settings.stats.upstreamCxConnectFail++;
    }
    if (this.all.size === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
    this.scheduleDrain();
  }

  /** Closes connections idle for their whole allowance (less one sweep period, so never later than it). */
  private sweepIdle(): void {
    const now = Date.now();
    // Oldest first; close() makes onGone splice the array, so walk a copy of the expired prefix.
    const expired = this.idle.filter((c) => now - c.idleSince >= c.maxIdleMs - this.sweepMs);
    for (const c of expired) c.close();
  }

  private scheduleDrain(): void {
    if (this.waitingHead === this.waiting.length || this.drainScheduled) return;
    // Not from inside the callback that freed the connection: on the next microtask.
    this.drainScheduled = true;
    queueMicrotask(() => this.drain());
  }

  /** Hands pending requests to free connections, oldest first. */
  private drain(): void {
    this.drainScheduled = false;
    const { resources, stats } = this.settings;
    while (this.waitingHead < this.waiting.length && this.canDispatch(false)) {
      const h = this.waiting[this.waitingHead++]!;
      if (!h.waiting) continue;
      h.waiting = false;
      resources.pendingRequests.dec();
      stats.upstreamRqPendingActive--;
      // Envoy checks max_requests again when a pending request gets its connection.
      if (!resources.requests.canCreate()) overflow(h, stats);
      else this.dispatch(h);
    }
    if (this.waitingHead === this.waiting.length) {
      this.waiting = [];
      this.waitingHead = 0;
    }
  }

  stats(): ConnectionPoolStats {
    return { cxActive: this.connected, cxTotal: this.cxTotal, cxConnectFail: this.cxConnectFail };
  }

  /** Pending requests still go out (no longer bound by the caps); then the pool closes once idle. */
  close(): Promise<void> {
    this.closed = true;
    this.drain();
    for (const c of [...this.idle]) c.close();
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => (this.closing = resolve));
  }

  destroy(): void {
    this.closed = true;
    this.destroyed = true;
    while (this.waitingHead < this.waiting.length) {
      const h = this.waiting[this.waitingHead++]!;
      if (!h.waiting) continue;
      this.onWaitingAborted();
      h.fail('connection_termination', new Error('upstream connection pool destroyed'));
    }
    for (const c of [...this.all]) c.destroy(new Error('upstream connection pool destroyed'));
  }
}

function overflow(h: Http1Stream, stats: PoolSettings['stats']): Http1Stream {
  stats.upstreamRqPendingOverflow++;
  h.fail('overflow', new Error('upstream overflow: circuit breaker open'));
  return h;
}

/** One request: the router's handle on it, the pool's while it is pending, a connection's exchange once sent. */
class Http1Stream implements UpstreamStream, Exchange {
  /** Waiting in the pool's pending queue. */
  waiting = false;
  /** The connection running it, once dispatched. */
  conn: Http1ClientConnection | null = null;
  private finished = false;

  constructor(
    readonly callbacks: UpstreamCallbacks,
    private readonly pool: Http1Pool,
    readonly spec: UpstreamRequestSpec,
  ) {}

  /** Fails a request the pool never dispatched (overflow, or the pool destroyed), synchronously. */
  fail(reason: ResetReason, err: Error): void {
    this.waiting = false;
    if (this.finished) return;
    this.finished = true;
    this.callbacks.onUpstreamError(reason, err);
  }

  over(): void {
    if (this.finished) return;
    this.finished = true;
    this.pool.onDone();
  }

  abort(): void {
    if (this.finished) return;
    if (this.waiting) {
      this.finished = true;
      this.waiting = false;
      this.pool.onWaitingAborted();
      return;
    }
    const conn = this.conn;
    this.over();
    conn?.abort();
  }

  resume(): void {
    this.conn?.resume();
  }
}
