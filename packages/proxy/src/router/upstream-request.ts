import type { IncomingHttpHeaders } from 'node:http';
import type { Host } from '../cluster/host.js';
import { LocalOriginResult } from '../cluster/outlier/outlier-detector.js';
import type { ConnectionPool, ResetReason, UpstreamCallbacks, UpstreamRequestSpec, UpstreamStream } from '../upstream/connection-pool.js';

/** What one attempt reports to the router (router-request.ts), which decides: pass downstream, or retry. */
export interface AttemptCallbacks {
  onAttemptHeaders(attempt: UpstreamRequest, status: number, headers: IncomingHttpHeaders, endStream: boolean): void;
  /** Returns false when the downstream is full: the attempt pauses until `resume()`. */
  onAttemptData(chunk: Buffer): boolean;
  onAttemptEnd(attempt: UpstreamRequest, trailers: IncomingHttpHeaders | null): void;
  /** The attempt failed before or during its response (never after onAttemptEnd, never after cancel()). */
  onAttemptReset(attempt: UpstreamRequest, reason: ResetReason, err: Error): void;
  /** The attempt's per-try timeout fired before its response started downstream; it has been cancelled. */
  onAttemptTimeout(attempt: UpstreamRequest): void;
}

/**
 * One attempt at the upstream (Envoy's UpstreamRequest): one stream on one endpoint's pool, its per-try
 * timeout, and the endpoint's request counters. It only reports; the router decides what a response or a
 * failure means for the downstream request.
 */
export class UpstreamRequest implements UpstreamCallbacks {
  private handle: UpstreamStream | null = null;
  private timer: NodeJS.Timeout | null = null;
  private done = false;
  /** performance.now() when the attempt started (x-envoy-upstream-service-time). */
  startedAt = 0;
  /** The response status, 0 until headers arrive. */
  status = 0;

  constructor(
    private readonly router: AttemptCallbacks,
    readonly host: Host,
    /** `retry_policy.per_try_timeout`, 0 for none. */
    private readonly perTryTimeoutMs: number,
  ) {}

  start(pool: ConnectionPool, spec: UpstreamRequestSpec): void {
    const stats = this.host.stats;
    stats.rqActive++;
    stats.rqTotal++;
    this.startedAt = performance.now();
    const handle = pool.newStream(spec, this);
    // A pool may fail synchronously (bad request headers): the failure has been handled by then.
    if (this.done) handle.abort();
    else this.handle = handle;
  }

  /** Starts the per-try timeout (the router calls this once the downstream request is complete). */
  armPerTryTimeout(): void {
    if (this.perTryTimeoutMs > 0 && !this.done && this.timer === null) this.timer = setTimeout(onPerTryTimeout, this.perTryTimeoutMs, this);
  }

  /** The response went downstream: from here only the route timeout applies (as in Envoy). */
  disarmPerTryTimeout(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  /** @internal */
  onPerTryTimeout(): void {
    this.timer = null;
    if (this.done) return;
    this.cancel(true);
    this.router.onAttemptTimeout(this);
  }

  // --- pool callbacks --------------------------------------------------------------------------------------

  onUpstreamHeaders(status: number, headers: IncomingHttpHeaders, endStream: boolean): void {
    if (this.done) return;
    this.status = status;
    this.router.onAttemptHeaders(this, status, headers, endStream);
  }

  onUpstreamData(chunk: Buffer): boolean {
    if (this.done) return true;
    return this.router.onAttemptData(chunk);
  }

  onUpstreamEnd(trailers: IncomingHttpHeaders | null): void {
    if (this.done) return;
    // Envoy counts 5xx responses as host errors.
    this.finish(this.status < 500, this.status);
    this.router.onAttemptEnd(this, trailers);
  }

  onUpstreamError(reason: ResetReason, err: Error): void {
    if (this.done) return;
    // An overflow is the cluster's circuit breaker, not the host's fault (Envoy doesn't report it either).
    this.finish(false, reason === 'overflow' ? 0 : LocalOriginResult.CONNECT_FAILED);
    this.router.onAttemptReset(this, reason, err);
  }

  // --- router side -----------------------------------------------------------------------------------------

  /**
   * Ends the attempt here: the downstream went away, the route timeout fired (`timedOut`), or the router
   * retries past its response. The upstream sees its stream reset; no callback follows.
   */
  cancel(timedOut: boolean): void {
    if (this.done) return;
    if (timedOut) this.host.stats.rqTimeout++;
    this.finish(!timedOut && this.status > 0 && this.status < 500, timedOut ? LocalOriginResult.TIMEOUT : this.status);
    this.handle?.abort();
  }

  resume(): void {
    this.handle?.resume();
  }

  /** `outlierResult`: what outlier detection hears (an HTTP status or a LocalOriginResult; 0: nothing). */
  private finish(success: boolean, outlierResult: number): void {
    this.done = true;
    this.disarmPerTryTimeout();
    if (outlierResult !== 0) this.host.outlier?.putResult(outlierResult);
    const stats = this.host.stats;
    stats.rqActive--;
    if (success) stats.rqSuccess++;
    else stats.rqError++;
  }
}

function onPerTryTimeout(req: UpstreamRequest): void {
  req.onPerTryTimeout();
}
