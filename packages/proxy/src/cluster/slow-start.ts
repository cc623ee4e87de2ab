import type { Host } from './host.js';

/** `slow_start_config` of round robin / least request (Istio's warmup), compiled. */
export interface SlowStartConfig {
  readonly windowMs: number;
  /** `aggression`: 1 ramps linearly; larger values ramp faster at first. */
  readonly aggression: number;
  /** `min_weight_percent`: the least share of its weight a host in slow start gets (Envoy default 10). */
  readonly minWeightPercent: number;
}

/**
 * Envoy's slow start factor for a host added at `sinceMs` (null: there from the start, never in slow
 * start): within the window, max((elapsed / window) ^ (1 / aggression), min_weight_percent); 1 after.
 */
export function slowStartFactor(c: SlowStartConfig, sinceMs: number | null, nowMs: number): number {
  if (sinceMs === null) return 1;
  const elapsed = nowMs - sinceMs;
  if (elapsed >= c.windowMs) return 1;
  const time = Math.max(1, elapsed) / c.windowMs;
  const ramp = c.aggression === 1 ? time : Math.pow(time, 1 / c.aggression);
  return Math.max(ramp, c.minWeightPercent / 100);
}

/** When the last of the hosts' slow start windows ends (0 when none is in one). */
export function slowStartEnds(c: SlowStartConfig | null, hosts: readonly Host[]): number {
  if (c === null) return 0;
  let end = 0;
  for (const h of hosts) {
    const since = h.stats.slowStartSinceMs;
    if (since !== null) end = Math.max(end, since + c.windowMs);
  }
  return end;
}
