import { headerValue } from '../../router/route-request.js';
import { FILTER_DISABLED } from '../../router/route.js';
import { routeClusterName } from '../../router/router-filter.js';
import type { ActiveStream, StreamCompleteHook, StreamUpstream } from '../active-stream.js';
import type { FilterStatus, HttpFilter } from '../http-filter.js';
import { ResponseFlag } from '../stream-info.js';
import { FaultHeaders, FaultSettings, type FaultPercentage } from './fault-settings.js';

const ABORT_BODY = 'fault filter abort';
const ABORT_DETAILS = 'fault_filter_abort';

/**
 * envoy.filters.http.fault: delays and aborts requests, as Envoy does. A route's HTTPFault replaces the
 * filter's own config for that route. Order: the request must match (upstream_cluster, headers,
 * downstream_nodes, max_active_faults); then a delay may be drawn (one timer; the request resumes after
 * it, flag DI); then, after the delay or at once, an abort may be drawn (local reply, flag FI). A client
 * that goes away during a delay cancels it. A route without fault config costs one map lookup.
 */
export class FaultFilter implements HttpFilter, StreamCompleteHook {
  /** Faulted requests in flight (Envoy's active_faults gauge), for max_active_faults. */
  private activeFaults = 0;

  constructor(
    readonly name: string,
    /** The filter's own config; null when it injects nothing (Istio sends an empty HTTPFault). */
    private readonly settings: FaultSettings | null,
  ) {}

  decodeHeaders(stream: ActiveStream): FilterStatus {
    const s = this.settingsFor(stream);
    if (s === null || !this.applies(stream, s)) return 'continue';
    const delayMs = delayFor(stream, s);
    if (delayMs > 0) {
      this.charge(stream);
      stream.info.setFlag(ResponseFlag.DI);
      new FaultDelayTimer(stream, s, delayMs);
      return 'stop';
    }
    if (s.abort !== null && maybeAbort(stream, s)) {
      this.charge(stream);
      return 'stop';
    }
    return 'continue';
  }

  /** @internal A faulted request is over. */
  onStreamComplete(): void {
    this.activeFaults--;
  }

  get activeFaultCount(): number {
    return this.activeFaults;
  }

  private settingsFor(stream: ActiveStream): FaultSettings | null {
    const perRoute = stream.perFilterConfig(this.name);
    if (perRoute === undefined) return this.settings;
    if (perRoute === FILTER_DISABLED || !(perRoute instanceof FaultSettings) || perRoute.empty) return null;
    return perRoute;
  }

  private applies(stream: ActiveStream, s: FaultSettings): boolean {
    if (s.maxActiveFaults !== null && this.activeFaults >= s.maxActiveFaults) return false;
    if (s.upstreamCluster !== null && routeClusterName(stream) !== s.upstreamCluster) return false;
    if (s.downstreamNodes !== null) {
      const node = headerValue(stream, FaultHeaders.downstreamNode);
      if (node === undefined || !s.downstreamNodes.has(node)) return false;
    }
    for (const m of s.headers) if (!m(stream)) return false;
    return true;
  }

  /** Counts the request as an active fault until it is over (once, even with a delay and an abort). */
  private charge(stream: ActiveStream): void {
    this.activeFaults++;
    stream.addCompleteHook(this);
  }
}

/** The delay a request gets (ms), 0 for none: drawn against the percentage, then fixed or from the header. */
function delayFor(stream: ActiveStream, s: FaultSettings): number {
  const d = s.delay;
  if (d === null) return 0;
  const fromHeader = d.fixedMs === null;
  if (!draw(d.percentage, fromHeader ? headerValue(stream, FaultHeaders.delayPercentage) : undefined)) return 0;
  if (!fromHeader) return d.fixedMs!;
  const v = headerValue(stream, FaultHeaders.delay);
  const ms = v === undefined ? NaN : Number(v);
  return Number.isInteger(ms) && ms > 0 ? ms : 0;
}

/**
 * Draws the abort and, when it fires, answers locally. gRPC requests get Envoy's gRPC local reply: HTTP 200
 * with `grpc-status` (the configured one, else mapped from the HTTP status) and no body.
 */
function maybeAbort(stream: ActiveStream, s: FaultSettings): boolean {
  const a = s.abort!;
  let http = a.httpStatus;
  let grpc = a.grpcStatus;
  if (a.fromHeaders) {
    if (!draw(a.percentage, headerValue(stream, FaultHeaders.abortPercentage))) return false;
    const h = Number(headerValue(stream, FaultHeaders.abort));
    const g = Number(headerValue(stream, FaultHeaders.abortGrpc));
    http = Number.isInteger(h) && h >= 200 && h < 600 ? h : null;
    grpc = http === null && Number.isInteger(g) && g >= 0 ? g : null;
    if (http === null && grpc === null) return false;
  } else if (!draw(a.percentage, undefined)) {
    return false;
  }
  if (isGrpc(stream)) {
    const status = grpc ?? httpToGrpcStatus(http!);
    stream.sendLocalReply(200, '', ResponseFlag.FI, ABORT_DETAILS, {
      'content-type': 'application/grpc',
      'grpc-status': String(status),
      'grpc-message': ABORT_BODY,
    });
  } else {
    // A gRPC status on a plain HTTP request: Envoy answers 200.
    stream.sendLocalReply(http ?? 200, ABORT_BODY, ResponseFlag.FI, ABORT_DETAILS);
  }
  return true;
}

/**
 * One draw against a fault percentage. For header-controlled faults, Envoy's percentage header may lower
 * the configured numerator (never raise it).
 */
function draw(p: FaultPercentage, headerNumerator: string | undefined): boolean {
  let numerator = p.numerator;
  if (headerNumerator !== undefined) {
    const n = Number(headerNumerator);
    if (Number.isInteger(n) && n >= 0 && n < numerator) numerator = n;
  }
  if (numerator <= 0) return false;
  if (numerator >= p.denominator) return true;
  return Math.random() * p.denominator < numerator;
}

function isGrpc(stream: ActiveStream): boolean {
  const ct = stream.headers['content-type'];
  return typeof ct === 'string' && ct.startsWith('application/grpc');
}

/** Envoy's Grpc::Utility::httpToGrpcStatus. */
export function httpToGrpcStatus(http: number): number {
  switch (http) {
    case 400:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14; // UNAVAILABLE
    default:
      return 2; // UNKNOWN
  }
}

/**
 * A pending fault delay: one timer, attached to the stream in the upstream's place so that a client going
 * away (or a stream reset) cancels it. When it fires, an abort may still be drawn; otherwise the filter
 * chain resumes.
 */
class FaultDelayTimer implements StreamUpstream {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly stream: ActiveStream,
    private readonly settings: FaultSettings,
    delayMs: number,
  ) {
    stream.attachUpstream(this);
    this.timer = setTimeout(onDelayEnd, delayMs, this);
  }

  /** @internal */
  fire(): void {
    const stream = this.stream;
    stream.attachUpstream(null);
    if (stream.isComplete) return;
    if (this.settings.abort !== null && maybeAbort(stream, this.settings)) return;
    stream.continueDecoding();
  }

  abort(): void {
    clearTimeout(this.timer);
  }

  resume(): void {}
}

function onDelayEnd(t: FaultDelayTimer): void {
  t.fire();
}
