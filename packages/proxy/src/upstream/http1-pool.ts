import type { IncomingHttpHeaders } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import type {
  ConnectionPool,
  ConnectionPoolStats,
  ResetReason,
  UpstreamCallbacks,
  UpstreamRequestSpec,
  UpstreamStream,
} from './connection-pool.js';

/** Keep-alive shorter than Node's default server keepAliveTimeout (5 s), so we close idle sockets first. */
const KEEP_ALIVE_MS = 4_000;

/**
 * HTTP/1.1 to one endpoint over an undici Pool: keep-alive connections, bodies streamed both ways through
 * undici's dispatch/handler API (backpressure by pause/resume, no promise per chunk). Timeouts are the
 * router's job, so undici's own header/body timeouts are off.
 */
export class Http1Pool implements ConnectionPool {
  readonly protocol = 'http1' as const;
  private readonly pool: Pool;
  private cxTotal = 0;
  private cxConnectFail = 0;

  constructor(origin: string, connectTimeoutMs: number) {
    this.pool = new Pool(origin, {
      connect: { timeout: connectTimeoutMs, noDelay: true },
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: KEEP_ALIVE_MS,
      pipelining: 1,
    });
    this.pool.on('connect', () => this.cxTotal++);
    this.pool.on('connectionError', () => this.cxConnectFail++);
  }

  newStream(spec: UpstreamRequestSpec, callbacks: UpstreamCallbacks): UpstreamStream {
    const handler = new UndiciStream(callbacks);
    spec.headers.host = spec.authority;
    this.pool.dispatch(
      { path: spec.path, method: spec.method as Dispatcher.HttpMethod, headers: spec.headers, body: spec.body },
      handler,
    );
    return handler;
  }

  stats(): ConnectionPoolStats {
    return { cxActive: this.pool.stats.connected, cxTotal: this.cxTotal, cxConnectFail: this.cxConnectFail };
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => undefined);
  }

  destroy(): void {
    void this.pool.destroy().catch(() => undefined);
  }
}

class Aborted extends Error {
  constructor() {
    super('upstream request aborted by the proxy');
  }
}

/** undici's handler for one request; also the router's handle on it. */
class UndiciStream implements Dispatcher.DispatchHandler, UpstreamStream {
  private controller: Dispatcher.DispatchController | null = null;
  private aborted = false;
  /** undici calls onRequestStart once the request is on a connected socket: an error before is a connect failure. */
  private sent = false;

  constructor(private readonly cb: UpstreamCallbacks) {}

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
    if (!this.aborted) this.cb.onUpstreamEnd(hasKeys(trailers) ? trailers : null);
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (!this.aborted) this.cb.onUpstreamError(classify(err, this.sent), err);
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.controller?.abort(new Aborted());
  }

  resume(): void {
    this.controller?.resume();
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
