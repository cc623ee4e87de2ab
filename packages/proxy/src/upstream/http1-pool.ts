import type { IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import type { Dispatcher, Pool as UndiciPool, buildConnector as BuildConnector } from 'undici';
import type {
  ConnectionPool,
  ConnectionPoolStats,
  ResetReason,
  UpstreamCallbacks,
  UpstreamRequestSpec,
  UpstreamStream,
} from './connection-pool.js';
import type { PoolSettings } from './pool-settings.js';
import type { UpstreamTlsConfig } from '../config/compiled-config.js';
import { tlsConnectOptions } from './upstream-tls.js';

// Only the Pool, not undici's index (fetch, WebSocket, caches...): ~9 MB less RSS in every sidecar.
const requireUndici = createRequire(import.meta.url);
const Pool = requireUndici('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
const buildConnector = requireUndici('undici/lib/core/connect.js') as typeof BuildConnector;

/** Keep-alive shorter than Node's default server keepAliveTimeout (5 s), so we close idle sockets first. */
const KEEP_ALIVE_MS = 4_000;
/** idle_timeout 0 disables the idle timeout (Envoy); the largest timer Node has. */
const NO_IDLE_TIMEOUT_MS = 2_147_483_647;

/**
 * HTTP/1.1 to one endpoint for one cluster over an undici Pool: keep-alive connections, bodies streamed
 * both ways through undici's dispatch/handler API (backpressure by pause/resume, no promise per chunk).
 * Timeouts are the router's job, so undici's own header/body timeouts are off.
 *
 * Circuit breaking as Envoy's HTTP/1 pool does it (one request per connection): a request goes out when a
 * connection is free or may be opened — at most `maxConnectionsPerHost` to this endpoint, and a new one
 * only while the cluster is under max_connections (a pool without connections may always open one).
 * Otherwise it waits here, pending, in arrival order. A request that would be pending when
 * max_pending_requests are already waiting, or active when max_requests are, fails at once with
 * `overflow` (503 UO) and counts in upstream_rq_pending_overflow. Only established connections count
 * towards the cluster's max_connections, so a burst of connects may pass it briefly.
 */
export class Http1Pool implements ConnectionPool {
  readonly protocol = 'http1' as const;
  private readonly pool: UndiciPool;
  private readonly hostCap: number;
  private readonly reset: boolean;
  /**
   * undici derives a request's SNI from its Host header and reconnects when it changes; TLS pools give
   * every request the same one (the connector below decides what is really sent).
   */
  private readonly servername: string | undefined;
  private cxTotal = 0;
  private cxConnectFail = 0;
  private connected = 0;
  /** Requests handed to undici and not finished: each holds a connection (no pipelining). */
  private inFlight = 0;
  /** Pending requests, oldest first (aborted ones are skipped when their turn comes). */
  private waiting: UndiciStream[] = [];
  private waitingHead = 0;
  private drainScheduled = false;

  constructor(
    origin: string,
    private readonly settings: PoolSettings,
  ) {
    const { maxConnectionsPerHost, maxRequestsPerConnection, idleTimeoutMs, tcpKeepaliveTimeMs } = settings;
    this.hostCap = maxConnectionsPerHost ?? Number.MAX_SAFE_INTEGER;
    // undici closes a connection after the request that finds it has served maxRequestsPerClient already:
    // N - 1 gives N per connection; one per connection is `connection: close` on each request.
    this.reset = maxRequestsPerConnection === 1;
    const idle = idleTimeoutMs === null ? KEEP_ALIVE_MS : idleTimeoutMs === 0 ? NO_IDLE_TIMEOUT_MS : idleTimeoutMs;
    const connect = {
      timeout: settings.connectTimeoutMs,
      noDelay: true,
      ...(tcpKeepaliveTimeMs !== null ? { keepAlive: true, keepAliveInitialDelay: tcpKeepaliveTimeMs } : {}),
    };
    this.servername = settings.tls ? (settings.tls.sni ?? 'no-sni') : undefined;
    this.pool = new Pool(origin, {
      connect: settings.tls ? tlsConnector(connect, settings.tls) : connect,
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: idle,
      ...(idleTimeoutMs !== null ? { keepAliveMaxTimeout: idle } : {}),
      pipelining: 1,
      ...(maxConnectionsPerHost !== null ? { connections: maxConnectionsPerHost } : {}),
      ...(maxRequestsPerConnection !== null && maxRequestsPerConnection > 1 ? { maxRequestsPerClient: maxRequestsPerConnection - 1 } : {}),
    });
    this.pool.on('connect', () => this.onConnect());
    this.pool.on('disconnect', () => this.onDisconnect());
    this.pool.on('connectionError', () => {
      this.cxConnectFail++;
      this.settings.stats.upstreamCxConnectFail++;
    });
  }

  newStream(spec: UpstreamRequestSpec, callbacks: UpstreamCallbacks): UpstreamStream {
    spec.headers.host = spec.authority;
    const handler = new UndiciStream(callbacks, this, spec);
    const { resources, stats } = this.settings;
    if (this.canDispatch(true)) {
      if (!resources.requests.canCreate()) return overflow(handler, stats);
      this.dispatch(handler);
    } else {
      if (!resources.pendingRequests.canCreate()) return overflow(handler, stats);
      handler.waiting = true;
      this.waiting.push(handler);
      resources.pendingRequests.inc();
      stats.upstreamRqPendingTotal++;
      stats.upstreamRqPendingActive++;
    }
    return handler;
  }

  /**
   * Whether a request may take a connection now: a free one, or a new one within the per-host cap and
   * the cluster's max_connections (always, when this pool has none at all).
   */
  private canDispatch(counting: boolean): boolean {
    if (this.inFlight >= this.hostCap) return false;
    if (this.connected > this.inFlight || this.connected + this.inFlight === 0) return true;
    if (this.settings.resources.connections.canCreate()) return true;
    if (counting) this.settings.stats.upstreamCxOverflow++;
    return false;
  }

  private dispatch(h: UndiciStream): void {
    const { resources, stats } = this.settings;
    this.inFlight++;
    resources.requests.inc();
    stats.upstreamRqTotal++;
    stats.upstreamRqActive++;
    h.dispatched = true;
    const spec = h.spec!;
    h.spec = null;
    this.pool.dispatch(
      { path: spec.path, method: spec.method as Dispatcher.HttpMethod, headers: spec.headers, body: spec.body, reset: this.reset, servername: this.servername } as Dispatcher.DispatchOptions,
      h,
    );
  }

  /** @internal A dispatched request is over (ended, failed or aborted): its connection is free. */
  onDone(): void {
    const { resources, stats } = this.settings;
    this.inFlight--;
    resources.requests.dec();
    stats.upstreamRqActive--;
    this.scheduleDrain();
  }

  /** @internal A pending request was aborted before its turn. */
  onWaitingAborted(): void {
    this.settings.resources.pendingRequests.dec();
    this.settings.stats.upstreamRqPendingActive--;
  }

  private scheduleDrain(): void {
    if (this.waitingHead === this.waiting.length || this.drainScheduled) return;
    // Not from inside undici's callback that freed the connection: on the next microtask.
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

  private onConnect(): void {
    const { resources, stats } = this.settings;
    this.cxTotal++;
    this.connected++;
    resources.connections.inc();
    stats.upstreamCxTotal++;
    stats.upstreamCxActive++;
  }

  private onDisconnect(): void {
    const { resources, stats } = this.settings;
    this.connected--;
    resources.connections.dec();
    stats.upstreamCxActive--;
    this.scheduleDrain();
  }

  stats(): ConnectionPoolStats {
    return { cxActive: this.connected, cxTotal: this.cxTotal, cxConnectFail: this.cxConnectFail };
  }

  /** Pending requests still go out (no longer bound by the caps); then the pool closes once idle. */
  async close(): Promise<void> {
    while (this.waitingHead < this.waiting.length) {
      const h = this.waiting[this.waitingHead++]!;
      if (!h.waiting) continue;
      h.waiting = false;
      this.onWaitingAborted();
      this.dispatch(h);
    }
    await this.pool.close().catch(() => undefined);
  }

  destroy(): void {
    while (this.waitingHead < this.waiting.length) {
      const h = this.waiting[this.waitingHead++]!;
      if (!h.waiting) continue;
      this.onWaitingAborted();
      h.fail('connection_termination', new Error('upstream connection pool destroyed'));
    }
    void this.pool.destroy().catch(() => undefined);
  }
}

/**
 * TLS connections (an `https:` origin) with the cluster's options: SNI only when configured (never the
 * Host header's name), verification as tlsConnectOptions says, ALPN `http/1.1` (undici's, the only
 * protocol this pool speaks).
 */
function tlsConnector(base: object, tls: UpstreamTlsConfig): BuildConnector.connector {
  const connect = buildConnector({ ...base, ...tlsConnectOptions(tls) });
  return (opts, callback) => connect({ ...opts, servername: undefined }, callback);
}

function overflow(h: UndiciStream, stats: PoolSettings['stats']): UndiciStream {
  stats.upstreamRqPendingOverflow++;
  h.fail('overflow', new Error('upstream overflow: circuit breaker open'));
  return h;
}

class Aborted extends Error {
  constructor() {
    super('upstream request aborted by the proxy');
  }
}

/** undici's handler for one request; also the router's handle on it, and the pool's while it is pending. */
class UndiciStream implements Dispatcher.DispatchHandler, UpstreamStream {
  private controller: Dispatcher.DispatchController | null = null;
  private aborted = false;
  /** undici calls onRequestStart once the request is on a connected socket: an error before is a connect failure. */
  private sent = false;
  /** Waiting in the pool's pending queue. */
  waiting = false;
  /** Handed to undici: the pool is told once when it is over. */
  dispatched = false;
  private over = false;

  constructor(
    private readonly cb: UpstreamCallbacks,
    private readonly pool: Http1Pool,
    /** The request, until it is dispatched. */
    public spec: UpstreamRequestSpec | null,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    this.sent = true;
    if (this.aborted) controller.abort(new Aborted());
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (!this.aborted) this.cb.onUpstreamHeaders(statusCode, headers, false);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.aborted && !this.cb.onUpstreamData(chunk)) controller.pause();
  }

  onResponseEnd(_c: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.finish();
    if (!this.aborted) this.cb.onUpstreamEnd(hasKeys(trailers) ? trailers : null);
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.finish();
    if (!this.aborted) this.cb.onUpstreamError(classify(err, this.sent), err);
  }

  /** Fails a request the pool never dispatched (overflow, or the pool destroyed), synchronously. */
  fail(reason: ResetReason, err: Error): void {
    this.waiting = false;
    this.spec = null;
    if (this.aborted) return;
    this.aborted = true;
    this.cb.onUpstreamError(reason, err);
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    if (this.waiting) {
      this.waiting = false;
      this.spec = null;
      this.pool.onWaitingAborted();
      return;
    }
    this.controller?.abort(new Aborted());
    this.finish();
  }

  resume(): void {
    this.controller?.resume();
  }

  private finish(): void {
    if (this.over || !this.dispatched) return;
    this.over = true;
    this.pool.onDone();
  }
}

const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

function classify(err: Error, sent: boolean): ResetReason {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return !sent || CONNECT_ERRORS.has(code) ? 'connection_failure' : 'connection_termination';
}

function hasKeys(o: object | null | undefined): boolean {
  if (!o) return false;
  for (const _ in o) return true;
  return false;
}
