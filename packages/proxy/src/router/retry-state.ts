import type { IncomingHttpHeaders } from 'node:http';
import type { Host } from '../cluster/host.js';
import type { PrioritySet } from '../cluster/priority-set.js';
import type { LoadBalancerContext } from '../cluster/load-balancer.js';
import type { RouteRequest } from './route-request.js';
import { RetryOn, type RetryPolicy } from './route.js';

/** What became of a failed attempt, as Envoy's RetryState answers: retry, or why not. */
export type RetryStatus = 'yes' | 'no' | 'overflow' | 'limit_exceeded';

/** How an attempt ended without a response, in retry_on's terms (an overflow is never retried). */
export type AttemptReset = 'connect_failure' | 'refused_stream' | 'reset' | 'per_try_timeout' | 'overflow';

/** The cluster side of retries: its retry circuit breaker and counters (Envoy's names). */
export interface RetryCluster {
  readonly resources: { readonly retries: { canCreate(): boolean; inc(): void; dec(): void } };
  readonly stats: {
    upstreamRqRetry: number;
    upstreamRqRetryOverflow: number;
    upstreamRqRetrySuccess: number;
    upstreamRqRetryLimitExceeded: number;
    upstreamRqRetryBackoffExponential: number;
  };
  readonly hosts: PrioritySet;
  chooseHost(ctx: LoadBalancerContext | null): Host | null;
}

const GRPC_BITS =
  RetryOn.GRPC_CANCELLED | RetryOn.GRPC_DEADLINE_EXCEEDED | RetryOn.GRPC_INTERNAL | RetryOn.GRPC_RESOURCE_EXHAUSTED | RetryOn.GRPC_UNAVAILABLE;
/** Resets (and per-try timeouts) count as a 5xx for these. */
const ANY_RESET_BITS = RetryOn.X5XX | RetryOn.GATEWAY_ERROR | RetryOn.RESET;

/** `retriable_request_headers`: a request matching none of them is never retried. */
export function requestRetriable(policy: RetryPolicy, req: RouteRequest): boolean {
  const matchers = policy.retriableRequestHeaders;
  if (matchers.length === 0) return true;
  for (const m of matchers) if (m(req)) return true;
  return false;
}

/** Envoy's wouldRetryFromHeaders: whether this response, by itself, calls for a retry. */
export function wouldRetryOnHeaders(policy: RetryPolicy, status: number, headers: IncomingHttpHeaders): boolean {
  const on = policy.retryOn;
  // An overloaded upstream Envoy asked not to be retried; a rate-limited answer only with envoy-ratelimited.
  if (headers['x-envoy-overloaded'] !== undefined) return false;
  if (headers['x-envoy-ratelimited'] !== undefined) return (on & RetryOn.ENVOY_RATELIMITED) !== 0;
  if (on & RetryOn.X5XX && status >= 500 && status < 600) return true;
  if (on & RetryOn.GATEWAY_ERROR && (status === 502 || status === 503 || status === 504)) return true;
  if (on & RetryOn.RETRIABLE_4XX && status === 409) return true;
  if (on & RetryOn.RETRIABLE_STATUS_CODES && policy.retriableStatusCodes.includes(status)) return true;
  if (on & RetryOn.RETRIABLE_HEADERS && policy.retriableHeaders.length > 0 && retriableHeader(policy, headers)) return true;
  if (on & GRPC_BITS) {
    const g = headers['grpc-status'];
    if (typeof g === 'string') return (on & grpcBit(Number(g))) !== 0;
  }
  return false;
}

/** Envoy's wouldRetryFromReset. */
export function wouldRetryOnReset(policy: RetryPolicy, reset: AttemptReset): boolean {
  if (reset === 'overflow') return false;
  const on = policy.retryOn;
  if (on & ANY_RESET_BITS) return true;
  if (reset === 'refused_stream') return (on & RetryOn.REFUSED_STREAM) !== 0;
  if (reset === 'connect_failure') return (on & RetryOn.CONNECT_FAILURE) !== 0;
  return false;
}

function grpcBit(code: number): number {
  switch (code) {
    case 1:
      return RetryOn.GRPC_CANCELLED;
    case 4:
      return RetryOn.GRPC_DEADLINE_EXCEEDED;
    case 8:
      return RetryOn.GRPC_RESOURCE_EXHAUSTED;
    case 13:
      return RetryOn.GRPC_INTERNAL;
    case 14:
      return RetryOn.GRPC_UNAVAILABLE;
    default:
      return 0;
  }
}

const NO_QUERY: ReadonlyMap<string, string> = new Map();

/** Response headers seen through the request-matcher interface the compiled header matchers take. */
function retriableHeader(policy: RetryPolicy, headers: IncomingHttpHeaders): boolean {
  const view: RouteRequest = { method: '', authority: '', scheme: '', path: '', pathNoQuery: '', headers, queryParams: () => NO_QUERY };
  for (const m of policy.retriableHeaders) if (m(view)) return true;
  return false;
}

/**
 * One request's retry state (Envoy's RetryStateImpl), created on its first retriable failure: the retries
 * left, the backoff, the hosts and priorities tried, and the retry circuit breaker. A scheduled retry holds
 * one unit of the cluster's `max_retries` from the decision until the retried attempt's outcome is known
 * (or the request ends); a retried attempt whose outcome is not retried again counts as a retry success.
 */
export class RetryState {
  private remaining: number;
  /** Holding one `retries` resource for a retry in flight (Envoy's armed callback). */
  private holding = false;
  /** Upper bound of the next backoff draw: base, doubling up to the max. */
  private backoffCeilMs: number;
  private readonly triedHosts: string[] = [];
  private readonly triedPriorities: number[] = [];

  constructor(
    private readonly policy: RetryPolicy,
    private readonly cluster: RetryCluster,
    firstHost: Host,
  ) {
    this.remaining = policy.numRetries;
    this.backoffCeilMs = policy.backoffBaseMs;
    this.onHostAttempted(firstHost);
  }

  /** Envoy's shouldRetry: `would` is whether the outcome calls for a retry (wouldRetryOn*). */
  shouldRetry(would: boolean): RetryStatus {
    const stats = this.cluster.stats;
    if (this.holding && !would) stats.upstreamRqRetrySuccess++;
    this.release();
    if (!would) return 'no';
    if (this.remaining === 0) {
      stats.upstreamRqRetryLimitExceeded++;
      return 'limit_exceeded';
    }
    this.remaining--;
    const retries = this.cluster.resources.retries;
    if (!retries.canCreate()) {
      stats.upstreamRqRetryOverflow++;
      return 'overflow';
    }
    retries.inc();
    this.holding = true;
    stats.upstreamRqRetry++;
    return 'yes';
  }

  /** Envoy's fully jittered exponential backoff: random [0, ceiling), the ceiling doubling up to the max. */
  nextBackoffMs(): number {
    this.cluster.stats.upstreamRqRetryBackoffExponential++;
    const ceil = this.backoffCeilMs;
    const max = this.policy.backoffMaxMs;
    this.backoffCeilMs = ceil < max / 2 ? ceil * 2 : max;
    return Math.min(Math.floor(Math.random() * ceil), max);
  }

  /** Gives back the `retries` resource (the retry's outcome is known, or the request is over). */
  release(): void {
    if (!this.holding) return;
    this.holding = false;
    this.cluster.resources.retries.dec();
  }

  onHostAttempted(host: Host): void {
    this.triedHosts.push(host.address);
    if (!this.triedPriorities.includes(host.priority)) this.triedPriorities.push(host.priority);
  }

  /**
   * The host for a retry. With previous_hosts, a host already tried is picked again only after
   * `host_selection_retry_max_attempts` further picks all land on tried hosts (Envoy's loop: the last pick
   * wins). With previous_priorities, a pick from a tried priority level moves to the healthy hosts of the
   * first level not tried yet, when there is one.
   */
  chooseHost(ctx: LoadBalancerContext): Host | null {
    const cluster = this.cluster;
    let host = cluster.chooseHost(ctx);
    if (this.policy.previousHosts) {
      for (let i = 0; i < this.policy.hostSelectionRetryMaxAttempts && host !== null && this.triedHosts.includes(host.address); i++) {
        host = cluster.chooseHost(ctx);
      }
    }
    if (this.policy.previousPriorities && host !== null && this.triedPriorities.includes(host.priority)) {
      host = this.untriedPriorityHost() ?? host;
    }
    return host;
  }

  private untriedPriorityHost(): Host | null {
    for (const set of this.cluster.hosts.hostSets) {
      if (this.triedPriorities.includes(set.priority) || set.healthyHosts.length === 0) continue;
      return set.healthyHosts[Math.floor(Math.random() * set.healthyHosts.length)]!;
    }
    return null;
  }
}
