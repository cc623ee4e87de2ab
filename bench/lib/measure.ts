/** Runs the load generator's jobs against a target and reads the proxies' CPU around the measured window. */
import type { FixedRateResult, SaturateResult } from './jobs.js';
import type { LoadgenClient } from './loadgen-client.js';
import type { BenchOptions } from './options.js';
import type { Payload } from './payloads.js';
import { cpuSeconds, machineBusySeconds, peakRssMb } from './procfs.js';
import type { Target } from './targets.js';

/** A measurement plus what the proxy processes spent on it. */
export interface Measured<R> {
  result: R;
  /** CPU seconds of all the target's proxy processes over the measured window. */
  proxyCpuS: number;
  /** CPU seconds of the load generator and the upstream app (the other core's work). */
  loadCpuS: number;
  /** CPU seconds the rest of the machine used meanwhile (not the bench's processes): interference. */
  otherCpuS: number;
  wallS: number;
  /** How many times the window was measured (more than once when other processes disturbed it). */
  attempts: number;
}

/** A window in which other processes used more than this share of a core is disturbed. */
export const DISTURBED_SHARE = 0.25;

export const otherShare = (m: { otherCpuS: number; wallS: number }) => m.otherCpuS / m.wallS;

/**
 * Measures up to `tries` times while other processes disturb the window, keeping the least disturbed attempt.
 * On a shared machine a short burst of someone else's work would otherwise decide a p99.
 */
export async function leastDisturbed<R>(measure: () => Promise<Measured<R>>, tries: number, onRetry: (share: number) => void): Promise<Measured<R>> {
  let best = await measure();
  for (let attempt = 2; attempt <= tries && otherShare(best) > DISTURBED_SHARE; attempt++) {
    onRetry(otherShare(best));
    const m = await measure();
    best = otherShare(m) < otherShare(best) ? m : best;
    best = { ...best, attempts: attempt };
  }
  return best;
}

/** The bench's own non-proxy processes: load generator and upstream (their CPU is read around each window). */
export interface LoadSide {
  pids: number[];
}

export interface Row {
  target: Target['name'];
  payload: Payload['name'];
  /** The saturation window with the median req/s (the only one without --repeat). */
  saturation?: Measured<SaturateResult>;
  /** Every saturation window, in order (more than one with --repeat). */
  saturationRepeats?: Measured<SaturateResult>[];
  /** The first 1000 req/s window. */
  low?: Measured<FixedRateResult>;
  /** Every 1000 req/s window, in order (more than one with --repeat). */
  lowRepeats?: Measured<FixedRateResult>[];
  high?: Measured<FixedRateResult>;
}

const sumCpu = (pids: number[]) => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

interface Counters {
  proxy: number;
  load: number;
  self: number;
  machine: number;
  at: bigint;
}

async function measured<R>(target: Target, load: LoadSide, run: (onWarm: () => void) => Promise<R>): Promise<Measured<R>> {
  const proxyPids = target.proxies.map((p) => p.pid);
  const read = (): Counters => ({
    proxy: sumCpu(proxyPids),
    load: sumCpu(load.pids),
    self: selfCpu(),
    machine: machineBusySeconds(),
    at: process.hrtime.bigint(),
  });
  let before: Counters | undefined;
  const result = await run(() => (before = read()));
  const after = read();
  const b = before!;
  // A process that died mid-window reads as 0 afterwards: count nothing rather than a negative time.
  const proxyCpuS = Math.max(0, after.proxy - b.proxy);
  const loadCpuS = Math.max(0, after.load - b.load);
  const ours = proxyCpuS + loadCpuS + (after.self - b.self);
  return {
    result,
    proxyCpuS,
    loadCpuS,
    otherCpuS: Math.max(0, after.machine - b.machine - ours),
    wallS: Number(after.at - b.at) / 1e9,
    attempts: 1,
  };
}

export function measureSaturation(lg: LoadgenClient, load: LoadSide, t: Target, payload: Payload, o: BenchOptions) {
  return measured(t, load, (onWarm) =>
    lg.saturate(
      { kind: 'saturate', endpoint: t.endpoint, payload, connections: o.connections, warmupS: o.saturateWarmupS, durationS: o.saturateS },
      onWarm,
    ),
  );
}

export function measureFixedRate(
  lg: LoadgenClient,
  load: LoadSide,
  t: Target,
  payload: Payload,
  rate: number,
  durationS: number,
  o: BenchOptions,
) {
  return measured(t, load, (onWarm) =>
    lg.fixedRate(
      { kind: 'fixed-rate', endpoint: t.endpoint, payload, rate, connections: o.connections, warmupS: o.fixedWarmupS, durationS, timeoutMs: o.timeoutMs },
      onWarm,
    ),
  );
}

/** Peak RSS (VmHWM, MB) of each proxy process of the target, over its whole life so far. */
export function peakRss(t: Target): { role: string; mb: number }[] {
  return t.proxies.map((p) => ({ role: p.role, mb: peakRssMb(p.pid) }));
}

/**
 * The higher fixed rate: 5000 req/s unless some target saturates below 5000/0.6, in which case 60% of the
 * slowest target's saturation (rounded down to 500), so every target is measured well below its limit (during
 * the fixed-rate runs the upstream shares the proxies' core, so their limit is lower than at saturation).
 */
export function chooseHighRate(rows: Row[], o: BenchOptions): { rate: number; note: string } {
  if (o.highRate !== undefined) return { rate: o.highRate, note: `set with --high-rate` };
  const rates = rows.flatMap((r) => (r.saturation ? [r.saturation.result.rps] : []));
  if (rates.length === 0) return { rate: 5000, note: 'default' };
  const slowest = Math.min(...rates);
  if (slowest * 0.6 >= 5000) return { rate: 5000, note: 'default: every target saturates above 8333 req/s' };
  const rate = Math.max(500, Math.floor((slowest * 0.6) / 500) * 500);
  return { rate, note: `60% of the slowest target's saturation, ${Math.round(slowest)} req/s` };
}

/**
 * The window with the median req/s (the lower of the two middle ones for an even count): one window the
 * machine disturbed doesn't set a ratio or decide a bar, and the CPU figures stay those of a real window.
 */
export function medianSaturation(windows: readonly Measured<SaturateResult>[]): Measured<SaturateResult> {
  const sorted = [...windows].sort((a, b) => a.result.rps - b.result.rps);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}
