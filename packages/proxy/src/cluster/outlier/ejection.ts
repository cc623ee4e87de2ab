// Envoy's ejection arithmetic (DetectorImpl), kept pure so it can be tested on its own.

/**
 * How long an ejection lasts: base × the host's backoff multiplier, capped at max_ejection_time, plus
 * the jitter drawn when it was ejected.
 */
export function ejectionDurationMs(baseMs: number, maxMs: number, backoff: number, jitterMs: number): number {
  return Math.min(baseMs * backoff, maxMs) + jitterMs;
}

/**
 * The multiplier after an ejection: one more, unless base × multiplier has already reached
 * max + base (so it stops growing once the cap is hit, and decays back from there).
 */
export function backoffAfterEjection(backoff: number, baseMs: number, maxMs: number): number {
  return backoff * baseMs < maxMs + baseMs ? backoff + 1 : backoff;
}

/**
 * Whether one more host may be ejected: the share ejected *after* this ejection must stay within
 * max_ejection_percent (Envoy since 1.27); `always_eject_one_host` allows the first ejection regardless.
 */
export function mayEject(active: number, hostCount: number, maxEjectionPercent: number, alwaysEjectOneHost: boolean): boolean {
  if (hostCount === 0) return false;
  if (alwaysEjectOneHost && active === 0) return true;
  return (100 * (active + 1)) / hostCount <= Math.min(100, maxEjectionPercent);
}

/** Envoy's success-rate threshold: mean - stdev_factor × stdev over the hosts with enough volume. */
export function successRateThreshold(rates: readonly number[], stdevFactor: number): { mean: number; threshold: number } {
  const mean = rates.reduce((s, r) => s + r, 0) / rates.length;
  const variance = rates.reduce((s, r) => s + (r - mean) ** 2, 0) / rates.length;
  return { mean, threshold: mean - stdevFactor * Math.sqrt(variance) };
}
