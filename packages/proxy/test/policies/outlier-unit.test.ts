import { describe, expect, it } from 'vitest';
import { ClusterStats } from '../../src/cluster/cluster-stats.js';
import { backoffAfterEjection, ejectionDurationMs, mayEject, successRateThreshold } from '../../src/cluster/outlier/ejection.js';
import { HostMonitor, LocalOriginResult, OutlierDetector } from '../../src/cluster/outlier/outlier-detector.js';
import type { OutlierDetectionConfig } from '../../src/config/compiled-config.js';

const CONFIG: OutlierDetectionConfig = {
  consecutive5xx: 3,
  consecutiveGatewayFailure: 5,
  consecutiveLocalOriginFailure: 5,
  enforcingConsecutive5xx: 100,
  enforcingConsecutiveGatewayFailure: 0,
  enforcingConsecutiveLocalOriginFailure: 100,
  intervalMs: 60_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionTimeJitterMs: 0,
  maxEjectionPercent: 100,
  alwaysEjectOneHost: false,
  splitExternalLocalOriginErrors: false,
  successRateMinimumHosts: 5,
  successRateRequestVolume: 100,
  successRateStdevFactor: 1900,
  enforcingSuccessRate: 0,
  enforcingLocalOriginSuccessRate: 0,
  failurePercentageThreshold: 85,
  failurePercentageMinimumHosts: 5,
  failurePercentageRequestVolume: 50,
  enforcingFailurePercentage: 0,
  enforcingFailurePercentageLocalOrigin: 0,
};

function detector(n: number, config: Partial<OutlierDetectionConfig> = {}) {
  const stats = new ClusterStats();
  let changes = 0;
  const d = new OutlierDetector({ ...CONFIG, ...config }, stats, () => changes++);
  const monitors = Array.from({ length: n }, (_, i) => new HostMonitor(`10.0.0.${i}:80`));
  d.setHosts(monitors);
  return { d, stats, monitors, changes: () => changes };
}

describe('ejection arithmetic (Envoy DetectorImpl)', () => {
  it('lasts base × times ejected, capped at max_ejection_time, plus jitter', () => {
    expect(ejectionDurationMs(30_000, 300_000, 1, 0)).toBe(30_000);
    expect(ejectionDurationMs(30_000, 300_000, 2, 0)).toBe(60_000);
    expect(ejectionDurationMs(30_000, 300_000, 11, 0)).toBe(300_000);
    expect(ejectionDurationMs(100, 300_000, 3, 7)).toBe(307);
  });

  it('grows the multiplier until base × multiplier reaches max + base', () => {
    let b = 0;
    const seen: number[] = [];
    for (let i = 0; i < 14; i++) seen.push((b = backoffAfterEjection(b, 30_000, 300_000)));
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11, 11, 11]);
  });

  it('keeps the ejected share within max_ejection_percent after the ejection; always_eject_one_host allows the first', () => {
    expect(mayEject(0, 10, 10, false)).toBe(true); // 10% after
    expect(mayEject(1, 10, 10, false)).toBe(false); // 20% after
    expect(mayEject(0, 5, 10, false)).toBe(false); // 20% > 10%: Envoy >= 1.27 ejects nothing
    expect(mayEject(0, 5, 10, true)).toBe(true);
    expect(mayEject(1, 5, 10, true)).toBe(false);
    expect(mayEject(1, 3, 67, false)).toBe(true);
    expect(mayEject(2, 3, 67, false)).toBe(false);
    expect(mayEject(2, 3, 100, false)).toBe(true);
  });

  it("computes the success-rate threshold as Envoy's example does (50, 100, 100, 100, 100 at factor 1.9)", () => {
    const { mean, threshold } = successRateThreshold([50, 100, 100, 100, 100], 1.9);
    expect(mean).toBe(90);
    expect(threshold).toBeCloseTo(90 - 1.9 * 20, 10);
  });
});

describe('outlier detector', () => {
  it('ejects on the Nth consecutive 5xx, not before; a success resets the count', () => {
    const { d, stats, monitors, changes } = detector(2);
    const [m] = monitors;
    m!.putResult(500);
    m!.putResult(503);
    m!.putResult(200);
    m!.putResult(500);
    m!.putResult(502);
    expect(m!.ejected).toBe(false);
    m!.putResult(504);
    expect(m!.ejected).toBe(true);
    expect(changes()).toBe(1);
    expect(stats.outlierDetectionEjectionsActive).toBe(1);
    expect(stats.outlierDetectionEjectionsEnforcedConsecutive5xx).toBe(1);
    expect(stats.outlierDetectionEjectionsDetectedConsecutive5xx).toBe(1);
    expect(d.ejectionsActive).toBe(1);
    d.close();
    expect(m!.ejected).toBe(false);
    expect(stats.outlierDetectionEjectionsActive).toBe(0);
  });

  it('counts connect failures as 503 and timeouts as 504 unless local-origin errors are split', () => {
    const { d, monitors } = detector(2);
    for (let i = 0; i < 3; i++) monitors[0]!.putResult(LocalOriginResult.CONNECT_FAILED);
    expect(monitors[0]!.ejected).toBe(true);
    d.close();
    const split = detector(2, { splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailure: 2 });
    split.monitors[0]!.putResult(LocalOriginResult.TIMEOUT);
    expect(split.monitors[0]!.consecutive5xx).toBe(0);
    split.monitors[0]!.putResult(LocalOriginResult.CONNECT_FAILED);
    expect(split.monitors[0]!.ejected).toBe(true);
    expect(split.stats.outlierDetectionEjectionsEnforcedConsecutiveLocalOriginFailure).toBe(1);
    split.d.close();
  });

  it('gateway failures eject only when enforcing_consecutive_gateway_failure says so', () => {
    const off = detector(2, { consecutive5xx: 0, consecutiveGatewayFailure: 2 });
    off.monitors[0]!.putResult(503);
    off.monitors[0]!.putResult(502);
    expect(off.monitors[0]!.ejected).toBe(false);
    expect(off.stats.outlierDetectionEjectionsDetectedConsecutiveGatewayFailure).toBe(1);
    off.d.close();
    const on = detector(2, { consecutive5xx: 0, consecutiveGatewayFailure: 2, enforcingConsecutiveGatewayFailure: 100 });
    on.monitors[0]!.putResult(500); // not a gateway error: resets the gateway count
    on.monitors[0]!.putResult(503);
    expect(on.monitors[0]!.ejected).toBe(false);
    on.monitors[0]!.putResult(504);
    expect(on.monitors[0]!.ejected).toBe(true);
    on.d.close();
  });

  it('refuses ejections past max_ejection_percent (ejections_overflow)', () => {
    const { d, stats, monitors } = detector(4, { maxEjectionPercent: 50 });
    for (const m of monitors) for (let i = 0; i < 3; i++) m.putResult(500);
    expect(monitors.filter((m) => m.ejected)).toHaveLength(2);
    expect(stats.outlierDetectionEjectionsOverflow).toBe(2);
    d.close();
  });

  it('releases the ejection of a host that leaves the cluster', () => {
    const { d, stats, monitors } = detector(3);
    for (let i = 0; i < 3; i++) monitors[1]!.putResult(500);
    d.setHosts([monitors[0]!, monitors[2]!]);
    expect(stats.outlierDetectionEjectionsActive).toBe(0);
    expect(monitors[1]!.ejected).toBe(false);
    monitors[1]!.putResult(500); // detached: ignored
    expect(monitors[1]!.consecutive5xx).toBe(0);
    d.close();
  });
});
