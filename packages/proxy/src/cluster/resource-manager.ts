/** Envoy's circuit-breaker defaults for a cluster without `circuit_breakers` (per priority). */
export const DEFAULT_THRESHOLDS: CircuitBreakerThresholds = {
  maxConnections: 1024,
  maxPendingRequests: 1024,
  maxRequests: 1024,
  maxRetries: 3,
  retryBudget: null,
};

/** `circuit_breakers.thresholds[]` (priority DEFAULT), compiled. */
export interface CircuitBreakerThresholds {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  /** Ignored when `retryBudget` is set (as in Envoy). */
  readonly maxRetries: number;
  readonly retryBudget: RetryBudget | null;
}

/**
 * `retry_budget`: concurrent retries may be `budgetPercent` % of the cluster's active plus pending
 * requests, and never fewer than `minRetryConcurrency`.
 */
export interface RetryBudget {
  readonly budgetPercent: number;
  readonly minRetryConcurrency: number;
}

/**
 * One circuit breaker (Envoy's ResourceLimit): a count of open resources against a maximum. Callers check
 * `canCreate()` before opening one and `dec()` exactly once per `inc()`. The maximum follows config
 * updates in place, so resources opened under the old limit are still released against this object.
 */
export class ResourceLimit {
  count = 0;
  private limit: number;

  constructor(max: number) {
    this.limit = max;
  }

  get max(): number {
    return this.limit;
  }

  canCreate(): boolean {
    return this.count < this.max;
  }

  inc(): void {
    this.count++;
  }

  dec(): void {
    this.count--;
  }

  /** `circuit_breakers.*.remaining_*` (Envoy's track_remaining). */
  get remaining(): number {
    return Math.max(0, this.max - this.count);
  }

  /** @internal A config update changed the threshold (the count carries on). */
  setMax(max: number): void {
    this.limit = max;
  }
}

/** The retries breaker: max_retries, or with a retry budget a share of the cluster's current requests. */
class RetryLimit extends ResourceLimit {
  budget: RetryBudget | null = null;

  constructor(
    max: number,
    private readonly requests: ResourceLimit,
    private readonly pending: ResourceLimit,
  ) {
    super(max);
  }

  override get max(): number {
    const b = this.budget;
    if (b === null) return super.max;
    return Math.max(Math.floor((b.budgetPercent / 100) * (this.requests.count + this.pending.count)), b.minRetryConcurrency);
  }
}

/**
 * A cluster's circuit breakers (Envoy's ResourceManager for the default priority): connections, pending
 * requests (waiting for a connection), active requests, active retries. One per cluster name, kept across
 * snapshot swaps so counts of in-flight work stay true.
 */
export class ResourceManager {
  readonly connections: ResourceLimit;
  readonly pendingRequests: ResourceLimit;
  readonly requests: ResourceLimit;
  readonly retries: ResourceLimit;

  constructor(thresholds: CircuitBreakerThresholds = DEFAULT_THRESHOLDS) {
    this.connections = new ResourceLimit(thresholds.maxConnections);
    this.pendingRequests = new ResourceLimit(thresholds.maxPendingRequests);
    this.requests = new ResourceLimit(thresholds.maxRequests);
    const retries = new RetryLimit(thresholds.maxRetries, this.requests, this.pendingRequests);
    retries.budget = thresholds.retryBudget;
    this.retries = retries;
  }

  /** @internal Applies new thresholds from a config update. */
  configure(thresholds: CircuitBreakerThresholds): void {
    this.connections.setMax(thresholds.maxConnections);
    this.pendingRequests.setMax(thresholds.maxPendingRequests);
    this.requests.setMax(thresholds.maxRequests);
    this.retries.setMax(thresholds.maxRetries);
    (this.retries as RetryLimit).budget = thresholds.retryBudget;
  }
}
