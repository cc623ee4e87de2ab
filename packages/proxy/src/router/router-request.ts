import type { IncomingHttpHeaders } from 'node:http';
import type { Cluster } from '../cluster/cluster.js';
import type { Host } from '../cluster/host.js';
import { sample } from '../config/fractional-percent.js';
import type { ActiveStream, RequestCompleteListener, StreamUpstream } from '../http/active-stream.js';
import { copyResponseHeaders, copyTrailers } from '../http/headers.js';
import { ResponseFlag } from '../http/stream-info.js';
import type { ResetReason } from '../upstream/connection-pool.js';
import { maxStreamDurationMs, routeTimeoutMs } from './grpc-timeout.js';
import { rewritePath } from './path-rewrite.js';
import { RequestBodyBuffer, type BodyBufferOwner } from './request-body-buffer.js';
import { RetryState, requestRetriable, wouldRetryOnHeaders, wouldRetryOnReset, type AttemptReset, type RetryStatus } from './retry-state.js';
import type { ForwardAction, MirrorPolicy, RetryPolicy, RouteEntry, WeightedCluster } from './route.js';
import { ShadowRequest, shadowAuthority } from './shadow-request.js';
import { UpstreamRequest, type AttemptCallbacks } from './upstream-request.js';
import { upstreamAuthority, upstreamHeaders, upstreamPool } from './upstream-target.js';

const RESET_FLAG: Record<ResetReason, number> = {
  connection_failure: ResponseFlag.UF,
  connection_termination: ResponseFlag.UC,
  remote_reset: ResponseFlag.UR,
  remote_refused_stream_reset: ResponseFlag.UR,
  local_reset: ResponseFlag.LR,
  overflow: ResponseFlag.UO,
};

const RESET_TEXT: Record<ResetReason, string> = {
  connection_failure: 'connection failure',
  connection_termination: 'connection termination',
  remote_reset: 'remote reset',
  remote_refused_stream_reset: 'remote refused stream reset',
  local_reset: 'local reset',
  overflow: 'overflow',
};

const OVERLOADED = { 'x-envoy-overloaded': 'true' };

const RESET_KIND: Record<ResetReason, AttemptReset> = {
  connection_failure: 'connect_failure',
  connection_termination: 'reset',
  remote_reset: 'reset',
  remote_refused_stream_reset: 'refused_stream',
  local_reset: 'reset',
  overflow: 'overflow',
};

/**
 * One downstream request's trip through the router (the per-request half of Envoy's router filter):
 * attempts one at a time (UpstreamRequest), retries with Envoy's retry state, the route timeout over all
 * attempts (and max_stream_duration), the request body kept for replay, and shadows.
 *
 * Retries (router/retry-state.ts) happen only before anything went downstream: once response headers are
 * out, a failure resets the downstream stream. A request body is streamed to the first attempt while up to
 * the route's buffer limit (per_request_buffer_limit_bytes, 64 KiB by default) is kept for replay; a longer
 * body turns retries and shadows off for that request (a failure then answers as if no retry policy were
 * set; one that happens during a retry backoff answers 507, as Envoy does). A request that can't be
 * retried and isn't mirrored hands its body to the pool untouched. A body that arrived whole with the head
 * (within the buffer limit) needs neither: every attempt and shadow is sent that same buffer.
 */
export class RouterRequest implements AttemptCallbacks, StreamUpstream, RequestCompleteListener, BodyBufferOwner {
  private attempt: UpstreamRequest | null = null;
  private attempts = 0;
  /** The policy while retries are still possible (null once they're not). */
  private retryPolicy: RetryPolicy | null;
  private retry: RetryState | null = null;
  private body: RequestBodyBuffer | null = null;
  /** The downstream body when it arrived whole (and within the buffer limit): replayable as it is. */
  private wholeBody: Buffer | null = null;
  private readonly path: string;
  /** The first attempt's authority, which shadows take (suffixed) as Envoy's do. */
  private authority = '';
  /** The route timeout this request gets (gRPC requests may take theirs from grpc-timeout). */
  private timeoutMs = 0;
  private globalTimer: NodeJS.Timeout | null = null;
  private globalDeadline = 0;
  private backoffTimer: NodeJS.Timeout | null = null;
  /** The next attempt follows a per-try timeout (x-envoy-is-timeout-retry). */
  private timeoutRetry = false;
  private shadowsPending = false;
  private done = false;

  constructor(
    private readonly stream: ActiveStream,
    private readonly route: RouteEntry,
    private readonly action: ForwardAction,
    private readonly cluster: Cluster,
    private readonly weighted: WeightedCluster | null,
  ) {
    const p = action.retryPolicy;
    this.retryPolicy = p !== null && p.numRetries > 0 && p.retryOn !== 0 && requestRetriable(p, stream) ? p : null;
    this.path = action.pathRewrite ? rewritePath(stream.path, action.pathRewrite) : stream.path;
  }

  start(host: Host): void {
    const stream = this.stream;
    const mirrors = this.action.mirrorPolicies;
    const whole = stream.body?.wholeBody ?? null;
    if (whole !== null && whole.length <= this.action.bufferLimitBytes) this.wholeBody = whole;
    else if (stream.body !== null && (this.retryPolicy !== null || mirrors.length > 0)) {
      this.body = new RequestBodyBuffer(stream.body, this.action.bufferLimitBytes, this);
    }
    stream.attachUpstream(this);
    this.armRouteTimeouts();
    // Shadows copy the first attempt's request: one without a body or with a whole one right after it,
    // others once the body is in.
    this.shadowsPending = mirrors.length > 0 && stream.body !== null && this.wholeBody === null;
    this.startAttempt(host);
    if (mirrors.length > 0 && !this.shadowsPending) this.startShadows(mirrors);
  }

  // --- attempts --------------------------------------------------------------------------------------------

  private startAttempt(host: Host): void {
    const stream = this.stream;
    const action = this.action;
    this.attempts++;
    stream.info.upstreamHost = host.address;
    stream.info.upstream = host;
    const headers = upstreamHeaders(stream, this.route, this.weighted, host);
    if (this.path !== stream.path && !stream.hcm.suppressEnvoyHeaders) headers['x-envoy-original-path'] = stream.path;
    if (action.attemptCountInRequest) headers['x-envoy-attempt-count'] = String(this.attempts);
    if (this.timeoutRetry && action.timeoutRetryHeader) headers['x-envoy-is-timeout-retry'] = 'true';
    const authority = upstreamAuthority(stream, action, this.weighted, host);
    if (this.attempts === 1) this.authority = authority;
    const attempt = new UpstreamRequest(this, host, this.action.retryPolicy?.perTryTimeoutMs ?? 0);
    this.attempt = attempt;
    const body = this.wholeBody ?? (this.body !== null ? this.body.attemptBody() : stream.body);
    attempt.start(upstreamPool(stream, this.cluster, host), { method: stream.method, path: this.path, authority, headers, body });
    if (this.attempt === attempt && stream.requestComplete) attempt.armPerTryTimeout();
  }

  onAttemptHeaders(attempt: UpstreamRequest, status: number, headers: IncomingHttpHeaders, endStream: boolean): void {
    const stream = this.stream;
    const policy = this.retryPolicy;
    if (policy !== null) {
      const would = wouldRetryOnHeaders(policy, status, headers);
      if (would || this.retry !== null) {
        const decision = this.retryState(attempt.host).shouldRetry(would);
        if (decision === 'yes') {
          this.attempt = null;
          attempt.cancel(false);
          this.scheduleRetry(false);
          return;
        }
        flagRetryRefusal(stream, decision);
      }
    }
    attempt.disarmPerTryTimeout();
    const elapsed = performance.now() - attempt.startedAt;
    stream.info.upstreamServiceTimeMs = elapsed;
    const out = copyResponseHeaders(headers);
    if (!stream.hcm.suppressEnvoyHeaders) out['x-envoy-upstream-service-time'] = String(Math.round(elapsed));
    if (this.action.attemptCountInResponse) out['x-envoy-attempt-count'] = String(this.attempts);
    stream.encodeHeaders(status, out, endStream);
  }

  onAttemptData(chunk: Buffer): boolean {
    return this.stream.encodeData(chunk);
  }

  onAttemptEnd(_attempt: UpstreamRequest, trailers: IncomingHttpHeaders | null): void {
    this.finish();
    if (trailers) {
      const t = copyTrailers(trailers);
      if (t) this.stream.encodeTrailers(t);
    }
    this.stream.endResponse();
  }

  onAttemptReset(attempt: UpstreamRequest, reason: ResetReason, _err: Error): void {
    const stream = this.stream;
    this.attempt = null;
    const flag = RESET_FLAG[reason];
    if (stream.responseStarted) {
      this.finish();
      stream.resetStream(flag);
      return;
    }
    if (this.maybeRetry(attempt.host, RESET_KIND[reason], false)) return;
    this.finish();
    const text = RESET_TEXT[reason];
    stream.sendLocalReply(
      503,
      `upstream connect error or disconnect/reset before headers. reset reason: ${text}`,
      flag,
      `upstream_reset_before_response_started{${text.replace(/ /g, '_')}}`,
      // Envoy marks a circuit breaker's refusal so that downstream proxies don't retry it.
      reason === 'overflow' && !stream.hcm.suppressEnvoyHeaders ? OVERLOADED : undefined,
    );
  }

  onAttemptTimeout(attempt: UpstreamRequest): void {
    this.attempt = null;
    this.cluster.stats.upstreamRqPerTryTimeout++;
    if (this.maybeRetry(attempt.host, 'per_try_timeout', true)) return;
    this.finish();
    this.stream.sendLocalReply(504, 'upstream request timeout', ResponseFlag.UT, 'upstream_per_try_timeout');
  }

  // --- retries ---------------------------------------------------------------------------------------------

  private retryState(host: Host): RetryState {
    return (this.retry ??= new RetryState(this.retryPolicy!, this.cluster, host));
  }

  /** A failure without a response: retried when the policy says so and the budget allows. */
  private maybeRetry(host: Host, reset: AttemptReset, timeout: boolean): boolean {
    const policy = this.retryPolicy;
    if (policy === null) return false;
    const would = wouldRetryOnReset(policy, reset);
    if (!would && this.retry === null) return false;
    const decision = this.retryState(host).shouldRetry(would);
    if (decision === 'yes') {
      this.scheduleRetry(timeout);
      return true;
    }
    flagRetryRefusal(this.stream, decision);
    return false;
  }

  private scheduleRetry(afterTimeout: boolean): void {
    this.timeoutRetry = afterTimeout;
    this.backoffTimer = setTimeout(onBackoffEnd, this.retry!.nextBackoffMs(), this);
  }

  /** @internal The backoff is over: the next attempt, on another host where the predicates want one. */
  retryNow(): void {
    this.backoffTimer = null;
    if (this.done) return;
    const host = this.retry!.chooseHost(this.stream);
    if (host === null) {
      this.finish();
      this.stream.sendLocalReply(503, 'no healthy upstream', ResponseFlag.UH, 'no_healthy_upstream');
      return;
    }
    this.retry!.onHostAttempted(host);
    this.startAttempt(host);
  }

  // --- request body ----------------------------------------------------------------------------------------

  onBodyComplete(replayable: boolean): void {
    if (!this.shadowsPending) return;
    this.shadowsPending = false;
    if (replayable) this.startShadows(this.action.mirrorPolicies);
    if (this.done) this.body!.detach();
  }

  /** Envoy's retry_or_shadow_abandoned: the body outgrew the buffer, so no retry and no shadow. */
  onBodyOverflow(): void {
    this.shadowsPending = false;
    this.retryPolicy = null;
    this.retry?.release();
    this.retry = null;
    if (this.backoffTimer !== null && !this.done) {
      // Waiting to retry with a body that can no longer be replayed.
      this.finish();
      this.stream.sendLocalReply(507, 'exceeded request buffer limit while retrying upstream', 0, 'request_payload_exceeded_retry_buffer_limit');
    }
  }

  // --- shadows ---------------------------------------------------------------------------------------------

  /** Sends each mirror policy's share of requests to its cluster: same request, `-shadow` authority. */
  private startShadows(policies: readonly MirrorPolicy[]): void {
    const stream = this.stream;
    for (const p of policies) {
      if (!sample(p.fraction)) continue;
      const name = p.clusterHeader === null ? p.cluster : headerString(stream.headers[p.clusterHeader]);
      const cluster = stream.snapshot.clusters.get(name);
      const host = cluster?.chooseHost(stream) ?? null;
      if (!cluster || host === null) continue;
      const headers = upstreamHeaders(stream, this.route, this.weighted, host);
      if (this.path !== stream.path && !stream.hcm.suppressEnvoyHeaders) headers['x-envoy-original-path'] = stream.path;
      const authority = p.appendShadowSuffix ? shadowAuthority(this.authority) : this.authority;
      const body = this.wholeBody ?? (this.body !== null ? this.body.replay() : null);
      new ShadowRequest(host, this.timeoutMs).start(upstreamPool(stream, cluster, host), {
        method: stream.method,
        path: this.path,
        authority,
        headers,
        body,
      });
    }
  }

  // --- timeouts --------------------------------------------------------------------------------------------

  /**
   * The route timeout runs from the end of the downstream request over all attempts and backoffs;
   * max_stream_duration from the start of the stream. The sooner one ends the request with UT.
   */
  private armRouteTimeouts(): void {
    const headers = this.stream.headers;
    const msd = maxStreamDurationMs(this.action, headers);
    if (msd > 0) this.setRouteTimer(Math.max(1, msd - (performance.now() - this.stream.info.startMonotonic)));
    this.timeoutMs = routeTimeoutMs(this.action, headers);
    if (this.timeoutMs > 0 || this.action.retryPolicy?.perTryTimeoutMs) this.stream.whenRequestComplete(this);
  }

  onRequestComplete(): void {
    if (this.done) return;
    if (this.timeoutMs > 0) this.setRouteTimer(this.timeoutMs);
    this.attempt?.armPerTryTimeout();
  }

  private setRouteTimer(ms: number): void {
    if (this.globalTimer !== null) {
      // Keep whichever deadline is sooner.
      if (this.globalDeadline - performance.now() <= ms) return;
      clearTimeout(this.globalTimer);
    }
    this.globalDeadline = performance.now() + ms;
    this.globalTimer = setTimeout(onRouteTimeout, ms, this);
  }

  /** @internal */
  onRouteTimeout(): void {
    this.globalTimer = null;
    if (this.done) return;
    const attempt = this.attempt;
    this.attempt = null;
    attempt?.cancel(true);
    this.cluster.stats.upstreamRqTimeout++;
    this.finish();
    const stream = this.stream;
    if (stream.responseStarted) stream.resetStream(ResponseFlag.UT);
    else stream.sendLocalReply(504, 'upstream request timeout', ResponseFlag.UT, 'upstream_response_timeout');
  }

  // --- downstream side -------------------------------------------------------------------------------------

  /** The downstream went away or was reset. */
  abort(): void {
    if (this.done) return;
    const attempt = this.attempt;
    this.attempt = null;
    attempt?.cancel(false);
    this.finish();
  }

  resume(): void {
    this.attempt?.resume();
  }

  private finish(): void {
    this.done = true;
    if (this.globalTimer !== null) {
      clearTimeout(this.globalTimer);
      this.globalTimer = null;
    }
    if (this.backoffTimer !== null) {
      clearTimeout(this.backoffTimer);
      this.backoffTimer = null;
    }
    this.retry?.release();
    // Shadows still waiting for the body go out once it is complete (the buffer keeps reading for them).
    if (this.shadowsPending) this.body!.stopFeeding();
    else this.body?.detach();
    this.stream.attachUpstream(null);
  }
}

/** A retry the policy wanted but couldn't make: UO when the retry budget is spent, URX past num_retries. */
function flagRetryRefusal(stream: ActiveStream, decision: RetryStatus): void {
  if (decision === 'overflow') stream.info.setFlag(ResponseFlag.UO);
  else if (decision === 'limit_exceeded') stream.info.setFlag(ResponseFlag.URX);
}

function headerString(v: string | string[] | undefined): string {
  return typeof v === 'string' ? v : '';
}

function onBackoffEnd(r: RouterRequest): void {
  r.retryNow();
}

function onRouteTimeout(r: RouterRequest): void {
  r.onRouteTimeout();
}
