import type { IncomingHttpHeaders } from 'node:http';
import type { Host } from '../cluster/host.js';
import type { ActiveStream, StreamUpstream } from '../http/active-stream.js';
import { copyResponseHeaders, copyTrailers } from '../http/headers.js';
import { ResponseFlag } from '../http/stream-info.js';
import type { ConnectionPool, ResetReason, UpstreamCallbacks, UpstreamRequestSpec, UpstreamStream } from '../upstream/connection-pool.js';
import type { ForwardAction } from './route.js';

const RESET_FLAG: Record<ResetReason, number> = {
  connection_failure: ResponseFlag.UF,
  connection_termination: ResponseFlag.UC,
  remote_reset: ResponseFlag.UR,
  local_reset: ResponseFlag.LR,
};

const RESET_TEXT: Record<ResetReason, string> = {
  connection_failure: 'connection failure',
  connection_termination: 'connection termination',
  remote_reset: 'remote reset',
  local_reset: 'local reset',
};

/**
 * One attempt at the upstream (Envoy's UpstreamRequest): starts the stream on the endpoint's pool, relays
 * the response downstream with backpressure, enforces the route's timeouts, and turns failures into
 * Envoy's local replies (503 UF/UC/UR before headers, 504 UT) or a downstream reset once headers are out.
 */
export class UpstreamRequest implements UpstreamCallbacks, StreamUpstream {
  private handle: UpstreamStream | null = null;
  private timer: NodeJS.Timeout | null = null;
  private done = false;
  private startedAt = 0;
  private status = 0;
  private timerDeadline = 0;

  constructor(
    private readonly stream: ActiveStream,
    private readonly action: ForwardAction,
    private readonly host: Host,
  ) {}

  start(pool: ConnectionPool, spec: UpstreamRequestSpec): void {
    const stats = this.host.stats;
    stats.rqActive++;
    stats.rqTotal++;
    this.startedAt = performance.now();
    this.stream.attachUpstream(this);
    this.armTimeouts();
    const handle = pool.newStream(spec, this);
    // A pool may fail synchronously (bad request headers): the failure has been handled by then.
    if (this.done) handle.abort();
    else this.handle = handle;
  }

  // --- timeouts --------------------------------------------------------------------------------------------

  /**
   * The route timeout runs from the end of the downstream request; max_stream_duration from the start of
   * the stream. Whichever fires first ends the request with UT.
   */
  private armTimeouts(): void {
    const { timeoutMs, maxStreamDurationMs } = this.action;
    if (maxStreamDurationMs > 0) {
      const left = Math.max(1, maxStreamDurationMs - (performance.now() - this.stream.info.startMonotonic));
      this.setTimer(left);
    }
    if (timeoutMs > 0) this.stream.whenRequestComplete(() => this.setTimer(timeoutMs));
  }

  private setTimer(ms: number): void {
    if (this.done) return;
    if (this.timer !== null) {
      // Keep whichever deadline is sooner.
      const remaining = this.timerDeadline - performance.now();
      if (remaining <= ms) return;
      clearTimeout(this.timer);
    }
    this.timerDeadline = performance.now() + ms;
    this.timer = setTimeout(onTimeout, ms, this);
  }

  /** @internal */
  onTimeout(): void {
    if (this.done) return;
    this.timer = null;
    this.host.stats.rqTimeout++;
    this.finish(false);
    this.handle?.abort();
    if (this.stream.responseStarted) this.stream.resetStream(ResponseFlag.UT);
    else this.stream.sendLocalReply(504, 'upstream request timeout', ResponseFlag.UT, 'upstream_response_timeout');
  }

  // --- upstream callbacks ----------------------------------------------------------------------------------

  onUpstreamHeaders(status: number, headers: IncomingHttpHeaders, endStream: boolean): void {
    if (this.done) return;
    this.status = status;
    const elapsed = performance.now() - this.startedAt;
    this.stream.info.upstreamServiceTimeMs = elapsed;
    const out = copyResponseHeaders(headers);
    if (!this.stream.hcm.suppressEnvoyHeaders) out['x-envoy-upstream-service-time'] = String(Math.round(elapsed));
    this.stream.encodeHeaders(status, out, endStream);
  }

  onUpstreamData(chunk: Buffer): boolean {
    if (this.done) return true;
    return this.stream.encodeData(chunk);
  }

  onUpstreamEnd(trailers: IncomingHttpHeaders | null): void {
    if (this.done) return;
    // Envoy counts 5xx responses as host errors.
    this.finish(this.status < 500);
    if (trailers) {
      const t = copyTrailers(trailers);
      if (t) this.stream.encodeTrailers(t);
    }
    this.stream.endResponse();
  }

  onUpstreamError(reason: ResetReason, _err: Error): void {
    if (this.done) return;
    this.finish(false);
    const flag = RESET_FLAG[reason];
    if (this.stream.responseStarted) {
      this.stream.resetStream(flag);
      return;
    }
    this.stream.sendLocalReply(
      503,
      `upstream connect error or disconnect/reset before headers. reset reason: ${RESET_TEXT[reason]}`,
      flag,
      `upstream_reset_before_response_started{${RESET_TEXT[reason].replace(/ /g, '_')}}`,
    );
  }

  // --- downstream side -------------------------------------------------------------------------------------

  abort(): void {
    if (this.done) return;
    this.finish(false);
    this.handle?.abort();
  }

  resume(): void {
    this.handle?.resume();
  }

  private finish(success: boolean): void {
    this.done = true;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const stats = this.host.stats;
    stats.rqActive--;
    if (success) stats.rqSuccess++;
    else stats.rqError++;
    this.stream.attachUpstream(null);
  }
}

function onTimeout(req: UpstreamRequest): void {
  req.onTimeout();
}
