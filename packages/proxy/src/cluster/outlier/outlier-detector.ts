import type { OutlierDetectionConfig } from '../../config/compiled-config.js';
import type { ClusterStats } from '../cluster-stats.js';
import { backoffAfterEjection, ejectionDurationMs, mayEject, successRateThreshold } from './ejection.js';

/**
 * What an attempt at a host came to, as the router reports it: the upstream's HTTP status (>= 100), or a
 * local-origin failure (Envoy's Outlier::Result) when no response came.
 */
export const LocalOriginResult = {
  /** Connect failure, or the connection/stream reset before a response (Envoy: LOCAL_ORIGIN_CONNECT_FAILED). */
  CONNECT_FAILED: -1,
  /** The route's (or per-try) timeout fired (Envoy: LOCAL_ORIGIN_TIMEOUT). */
  TIMEOUT: -2,
} as const;

export type EjectionType =
  | 'consecutive_5xx'
  | 'consecutive_gateway_failure'
  | 'consecutive_local_origin_failure'
  | 'success_rate'
  | 'local_origin_success_rate'
  | 'failure_percentage'
  | 'local_origin_failure_percentage';

/** Requests and successes over one interval (Envoy's SuccessRateAccumulator: a current and a last bucket). */
class SuccessRateBuckets {
  total = 0;
  success = 0;
  lastTotal = 0;
  lastSuccess = 0;

  swap(): void {
    this.lastTotal = this.total;
    this.lastSuccess = this.success;
    this.total = 0;
    this.success = 0;
  }

  /** Success rate (percent) over the last full interval, or null when it had no requests. */
  lastRate(): number | null {
    return this.lastTotal === 0 ? null : (100 * this.lastSuccess) / this.lastTotal;
  }
}

/**
 * One host's outlier state (Envoy's DetectorHostMonitorImpl): consecutive error counters, ejection state
 * and the backoff multiplier. Kept across config snapshots while the endpoint stays in its cluster, so an
 * ejection outlives an unrelated config push.
 */
export class HostMonitor {
  /** The detector of the host's cluster; null once the host has left it. */
  detector: OutlierDetector | null = null;
  ejected = false;
  numEjections = 0;
  /** Multiplier of base_ejection_time for the next ejection's length (grows per ejection, decays when healthy). */
  backoff = 0;
  lastEjectionMs = 0;
  lastUnejectionMs: number | null = null;
  jitterMs = 0;
  consecutive5xx = 0;
  consecutiveGatewayFailure = 0;
  consecutiveLocalOriginFailure = 0;
  /** For /clusters: the success rate of the last interval (-1 when not computed). */
  successRate = -1;
  localOriginSuccessRate = -1;
  readonly external = new SuccessRateBuckets();
  readonly localOrigin = new SuccessRateBuckets();

  constructor(
    /** `ip:port`, for messages. */
    readonly address: string,
  ) {}

  /** One attempt's outcome: an HTTP status, or a LocalOriginResult. */
  putResult(code: number): void {
    const d = this.detector;
    if (d === null) return;
    if (!d.config.splitExternalLocalOriginErrors) {
      // Local-origin failures count as the status the router answers with (503 / 504).
      this.putHttpResponseCode(d, code === LocalOriginResult.TIMEOUT ? 504 : code === LocalOriginResult.CONNECT_FAILED ? 503 : code);
      return;
    }
    if (code > 0) {
      this.localOriginSuccess();
      this.putHttpResponseCode(d, code);
    } else {
      this.localOriginFailure(d);
    }
  }

  private putHttpResponseCode(d: OutlierDetector, code: number): void {
    this.external.total++;
    if (code >= 500 && code < 600) {
      if (code >= 502 && code <= 504) {
        if (++this.consecutiveGatewayFailure === d.config.consecutiveGatewayFailure) d.onConsecutiveError(this, 'consecutive_gateway_failure');
      } else {
        this.consecutiveGatewayFailure = 0;
      }
      if (++this.consecutive5xx === d.config.consecutive5xx) d.onConsecutiveError(this, 'consecutive_5xx');
    } else {
      this.external.success++;
      this.consecutive5xx = 0;
      this.consecutiveGatewayFailure = 0;
    }
  }

  private localOriginFailure(d: OutlierDetector): void {
    this.localOrigin.total++;
    if (++this.consecutiveLocalOriginFailure === d.config.consecutiveLocalOriginFailure) {
      d.onConsecutiveError(this, 'consecutive_local_origin_failure');
    }
  }

  private localOriginSuccess(): void {
    this.localOrigin.total++;
    this.localOrigin.success++;
    this.consecutiveLocalOriginFailure = 0;
  }

  /** @internal */
  resetConsecutive(type: EjectionType | 'all'): void {
    if (type === 'all' || type === 'consecutive_5xx') this.consecutive5xx = 0;
    if (type === 'all' || type === 'consecutive_gateway_failure') this.consecutiveGatewayFailure = 0;
    if (type === 'all' || type === 'consecutive_local_origin_failure') this.consecutiveLocalOriginFailure = 0;
  }
}

const DETECTED: Record<EjectionType, keyof ClusterStats> = {
  consecutive_5xx: 'outlierDetectionEjectionsDetectedConsecutive5xx',
  consecutive_gateway_failure: 'outlierDetectionEjectionsDetectedConsecutiveGatewayFailure',
  consecutive_local_origin_failure: 'outlierDetectionEjectionsDetectedConsecutiveLocalOriginFailure',
  success_rate: 'outlierDetectionEjectionsDetectedSuccessRate',
  local_origin_success_rate: 'outlierDetectionEjectionsDetectedLocalOriginSuccessRate',
  failure_percentage: 'outlierDetectionEjectionsDetectedFailurePercentage',
  local_origin_failure_percentage: 'outlierDetectionEjectionsDetectedLocalOriginFailurePercentage',
};

const ENFORCED: Record<EjectionType, keyof ClusterStats> = {
  consecutive_5xx: 'outlierDetectionEjectionsEnforcedConsecutive5xx',
  consecutive_gateway_failure: 'outlierDetectionEjectionsEnforcedConsecutiveGatewayFailure',
  consecutive_local_origin_failure: 'outlierDetectionEjectionsEnforcedConsecutiveLocalOriginFailure',
  success_rate: 'outlierDetectionEjectionsEnforcedSuccessRate',
  local_origin_success_rate: 'outlierDetectionEjectionsEnforcedLocalOriginSuccessRate',
  failure_percentage: 'outlierDetectionEjectionsEnforcedFailurePercentage',
  local_origin_failure_percentage: 'outlierDetectionEjectionsEnforcedLocalOriginFailurePercentage',
};

function enforcingPercent(c: OutlierDetectionConfig, type: EjectionType): number {
  switch (type) {
    case 'consecutive_5xx':
      return c.enforcingConsecutive5xx;
    case 'consecutive_gateway_failure':
      return c.enforcingConsecutiveGatewayFailure;
    case 'consecutive_local_origin_failure':
      return c.enforcingConsecutiveLocalOriginFailure;
    case 'success_rate':
      return c.enforcingSuccessRate;
    case 'local_origin_success_rate':
      return c.enforcingLocalOriginSuccessRate;
    case 'failure_percentage':
      return c.enforcingFailurePercentage;
    case 'local_origin_failure_percentage':
      return c.enforcingFailurePercentageLocalOrigin;
  }
}

/**
 * A cluster's outlier detector (Envoy's DetectorImpl): ejects hosts on consecutive errors as they are
 * reported, and every `interval` returns hosts whose ejection time is up, runs success-rate and
 * failure-percentage ejection over the interval's numbers, and lets the backoff multiplier of hosts that
 * stayed healthy for an interval decay by one. Ejected hosts leave the healthy set (`onChange` rebuilds
 * the cluster's balancer); while too few hosts are healthy the balancer panics and uses them all.
 */
export class OutlierDetector {
  private monitors = new Set<HostMonitor>();
  private timer: NodeJS.Timeout | null = null;
  private active = 0;
  /** Of the last interval, for /clusters (-1: not computed). */
  successRateAverage = -1;
  successRateEjectionThreshold = -1;
  localOriginSuccessRateAverage = -1;
  localOriginSuccessRateEjectionThreshold = -1;

  constructor(
    public config: OutlierDetectionConfig,
    private readonly stats: ClusterStats,
    /** Called after ejections and unejections, to rebuild the cluster's host set. */
    private readonly onChange: () => void,
  ) {
    this.arm();
  }

  /** A config update for the same cluster: new settings, same state. */
  configure(config: OutlierDetectionConfig): void {
    const rearm = config.intervalMs !== this.config.intervalMs;
    this.config = config;
    if (rearm) this.arm();
  }

  /** The cluster's current hosts; monitors of hosts that left are detached (their ejection released). */
  setHosts(monitors: Iterable<HostMonitor>): void {
    const next = new Set(monitors);
    for (const m of this.monitors) {
      if (next.has(m)) continue;
      if (m.ejected) {
        m.ejected = false;
        this.setActive(this.active - 1);
      }
      m.detector = null;
    }
    for (const m of next) m.detector = this;
    this.monitors = next;
  }

  get ejectionsActive(): number {
    return this.active;
  }

  /** Stops the interval timer and releases every host (the cluster or its outlier_detection went away). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.setHosts([]);
  }

  /** @internal A host reached a consecutive-error threshold. */
  onConsecutiveError(m: HostMonitor, type: EjectionType): void {
    if (!this.monitors.has(m) || m.ejected) return;
    this.stats[DETECTED[type]]++;
    const changed = this.eject(m, type, performance.now());
    // Start counting the next bout from zero, even if the host was not ejected.
    m.resetConsecutive(type);
    if (changed) this.onChange();
  }

  private eject(m: HostMonitor, type: EjectionType, now: number): boolean {
    const c = this.config;
    if (!mayEject(this.active, this.monitors.size, c.maxEjectionPercent, c.alwaysEjectOneHost)) {
      this.stats.outlierDetectionEjectionsOverflow++;
      return false;
    }
    if (type === 'consecutive_5xx' || type === 'success_rate') this.stats.outlierDetectionEjectionsTotal++;
    if (Math.random() * 100 >= enforcingPercent(c, type)) return false;
    this.setActive(this.active + 1);
    this.stats.outlierDetectionEjectionsEnforcedTotal++;
    this.stats[ENFORCED[type]]++;
    m.ejected = true;
    m.numEjections++;
    m.lastEjectionMs = now;
    m.jitterMs = Math.floor(Math.random() * (c.maxEjectionTimeJitterMs + 1));
    m.backoff = backoffAfterEjection(m.backoff, c.baseEjectionTimeMs, c.maxEjectionTimeMs);
    return true;
  }

  private setActive(n: number): void {
    this.active = n;
    this.stats.outlierDetectionEjectionsActive = n;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(onInterval, this.config.intervalMs, this);
    this.timer.unref();
  }

  /** @internal One `interval` tick. */
  onInterval(): void {
    const now = performance.now();
    const c = this.config;
    let changed = false;
    for (const m of this.monitors) {
      if (m.ejected && ejectionDurationMs(c.baseEjectionTimeMs, c.maxEjectionTimeMs, m.backoff, m.jitterMs) <= now - m.lastEjectionMs) {
        m.ejected = false;
        m.lastUnejectionMs = now;
        m.resetConsecutive('all');
        this.setActive(this.active - 1);
        changed = true;
      }
      m.external.swap();
      m.localOrigin.swap();
      m.successRate = -1;
      m.localOriginSuccessRate = -1;
    }
    if (this.successRateEjections('external', now)) changed = true;
    if (this.successRateEjections('local', now)) changed = true;
    for (const m of this.monitors) {
      if (!m.ejected && m.lastUnejectionMs !== null && now - m.lastUnejectionMs >= c.intervalMs && m.backoff > 0) m.backoff--;
    }
    if (changed) this.onChange();
    this.arm();
  }

  private setAverages(kind: 'external' | 'local', mean: number, threshold: number): void {
    if (kind === 'external') {
      this.successRateAverage = mean;
      this.successRateEjectionThreshold = threshold;
    } else {
      this.localOriginSuccessRateAverage = mean;
      this.localOriginSuccessRateEjectionThreshold = threshold;
    }
  }

  /** Envoy's processSuccessRateEjections for one kind of result; true when a host was ejected. */
  private successRateEjections(kind: 'external' | 'local', now: number): boolean {
    const c = this.config;
    const n = this.monitors.size;
    this.setAverages(kind, -1, -1);
    if (n < c.successRateMinimumHosts && n < c.failurePercentageMinimumHosts) return false;
    const srHosts: [HostMonitor, number][] = [];
    const fpHosts: [HostMonitor, number][] = [];
    for (const m of this.monitors) {
      if (m.ejected) continue;
      const b = kind === 'external' ? m.external : m.localOrigin;
      const rate = b.lastRate();
      if (rate === null) continue;
      if (b.lastTotal >= Math.min(c.successRateRequestVolume, c.failurePercentageRequestVolume)) {
        if (kind === 'external') m.successRate = rate;
        else m.localOriginSuccessRate = rate;
      }
      if (b.lastTotal >= c.successRateRequestVolume) srHosts.push([m, rate]);
      if (b.lastTotal >= c.failurePercentageRequestVolume) fpHosts.push([m, rate]);
    }
    let ejected = false;
    if (srHosts.length > 0 && srHosts.length >= c.successRateMinimumHosts) {
      const { mean, threshold } = successRateThreshold(srHosts.map(([, r]) => r), c.successRateStdevFactor / 1000);
      this.setAverages(kind, mean, threshold);
      const type = kind === 'external' ? 'success_rate' : 'local_origin_success_rate';
      for (const [m, rate] of srHosts) {
        if (rate >= threshold || m.ejected) continue;
        this.stats[DETECTED[type]]++;
        if (this.eject(m, type, now)) ejected = true;
      }
    }
    if (fpHosts.length > 0 && fpHosts.length >= c.failurePercentageMinimumHosts) {
      const type = kind === 'external' ? 'failure_percentage' : 'local_origin_failure_percentage';
      for (const [m, rate] of fpHosts) {
        if (100 - rate < c.failurePercentageThreshold || m.ejected) continue;
        this.stats[DETECTED[type]]++;
        if (this.eject(m, type, now)) ejected = true;
      }
    }
    return ejected;
  }
}

function onInterval(d: OutlierDetector): void {
  d.onInterval();
}

