/**
 * Notes on how far a run's figures can be trusted (the generator's own lateness, other load on the machine),
 * and on what the bars leave out (a fresh proxy's warm-up).
 */
import { DISTURBED_SHARE, otherShare, type Row } from './measure.js';
import { PAYLOADS } from './payloads.js';

/** Whether the open-loop client itself kept to its schedule (its lateness is inside the latencies it reports). */
export function generatorLag(rows: Row[], high: number, low: number): string[] {
  const runs = rows.flatMap((r) =>
    [
      { m: r.low, rate: low },
      { m: r.high, rate: high },
    ].flatMap(({ m, rate }) => (m ? [{ r, rate, lag: m.result.sendLagP99Us }] : [])),
  );
  if (runs.length === 0) return [];
  const late = runs.filter((x) => x.lag > 1000);
  const worst = runs.reduce((a, b) => (b.lag > a.lag ? b : a));
  const where = `worst ${Math.round(worst.lag)} µs: ${worst.r.target} ${worst.r.payload} @ ${worst.rate}/s`;
  return [
    late.length === 0
      ? `the load generator sent on schedule: p99 send lag under 1 ms in every fixed-rate run (${where}).`
      : `the load generator's p99 send lag exceeded 1 ms in ${late.length} of ${runs.length} fixed-rate runs (${where}); those latencies include it.`,
  ];
}

/** Noisy: other processes disturbed some window, or used more than this share of a core on average. */
const NOISY_MEAN = 0.1;

/** Whether other processes took enough CPU during the measured windows to make the figures unreliable. */
export function wasNoisy(rows: Row[]): boolean {
  const ms = rows.flatMap((r) => [r.saturation, r.low, r.high].flatMap((m) => (m ? [m] : [])));
  const mean = ms.reduce((sum, m) => sum + m.otherCpuS, 0) / Math.max(1e-9, ms.reduce((sum, m) => sum + m.wallS, 0));
  return mean > NOISY_MEAN || ms.some((m) => otherShare(m) > DISTURBED_SHARE);
}

/** How much CPU processes outside the bench took during the measured windows (they should be idle). */
export function interference(rows: Row[], high: number, low: number): string[] {
  const windows = rows.flatMap((r) =>
    [
      { m: r.saturation, phase: 'saturation' },
      { m: r.low, phase: `@ ${low}/s` },
      { m: r.high, phase: `@ ${high}/s` },
    ].flatMap(({ m, phase }) => (m ? [{ what: `${r.target} ${r.payload} ${phase}`, share: otherShare(m), m }] : [])),
  );
  if (windows.length === 0) return [];
  const mean = windows.reduce((sum, w) => sum + w.m.otherCpuS, 0) / windows.reduce((sum, w) => sum + w.m.wallS, 0);
  const pct = (x: number) => `${Math.round(100 * x)}%`;
  const disturbed = windows.filter((w) => w.share > DISTURBED_SHARE);
  const retried = windows.filter((w) => w.m.attempts > 1).length;
  const again = retried ? ` (${retried} window${retried > 1 ? 's' : ''} measured again because other processes disturbed the first attempt)` : '';
  const text = `other processes on the machine used ${pct(mean)} of a core on average during the measured windows${again}`;
  if (disturbed.length === 0) return [`${text}, at most ${pct(Math.max(...windows.map((w) => w.share)))} in any one.`];
  const list = disturbed.map((w) => `${w.what} (${pct(w.share)})`).join(', ');
  return [`${text}; more than 25% of a core during: ${list}. Treat those figures as noisy.`];
}

/** One target's unmeasured warm-up before its first window: the p99 of each payload's run, in PAYLOADS order. */
export interface WarmUp {
  target: string;
  p99Us: number[];
}

/** The warm-up runs' p99: the bars leave a fresh proxy's first seconds out, the record keeps them. */
export function warmUpNote(warmUps: WarmUp[], seconds: number, rate: number): string[] {
  if (warmUps.length === 0) return [];
  const ms = (us: number) => (us / 1000).toFixed(2);
  const list = warmUps.map((w) => `${w.target} ${w.p99Us.map(ms).join(' / ')}`).join('; ');
  return [
    `before its first window, each freshly started target ran every payload for ${seconds} s at ${rate} req/s, not measured for the bars. Those runs' p99 in ms (${PAYLOADS.map((p) => p.name).join(' / ')}): ${list}.`,
  ];
}
