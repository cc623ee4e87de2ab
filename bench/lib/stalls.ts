/**
 * How much the machine itself stalls each CPU, measured with nothing of the bench busy: a p99 at 1000 req/s is
 * the slowest 1% of requests, and on a shared VM those can be requests that met a stall no process caused.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PROCS_DIR } from './topology.js';

/** What one spinning probe saw on one CPU. */
export interface StallSample {
  wallS: number;
  /** Share of the wall time lost in gaps > 50 µs. */
  stalledShare: number;
  /** Gaps longer than 1 ms. */
  over1Ms: number;
  worstMs: number;
}

export interface CpuStalls extends StallSample {
  cpu: number;
  /** When it was measured, e.g. "before the 1000 req/s windows". */
  when: string;
}

/** Consecutive reads of a spinning loop are well under 1 µs apart: 50 µs between two of them is a stall. */
const GAP_MS = 0.05;

/** The probe itself: reads `now` (ms) in a loop for `seconds` and sums the gaps between consecutive reads. */
export function spinAndRecordGaps(seconds: number, now: () => number = () => performance.now()): StallSample {
  const start = now();
  const end = start + seconds * 1000;
  let last = start;
  let stalledMs = 0;
  let over1Ms = 0;
  let worstMs = 0;
  for (;;) {
    const t = now();
    const gap = t - last;
    if (gap > GAP_MS) {
      stalledMs += gap;
      if (gap > 1) over1Ms++;
      if (gap > worstMs) worstMs = gap;
    }
    last = t;
    if (t >= end) break;
  }
  const wallMs = last - start;
  return { wallS: wallMs / 1000, stalledShare: wallMs > 0 ? stalledMs / wallMs : 0, over1Ms, worstMs };
}

/** Runs one probe per CPU at once, each pinned with taskset, for `seconds`. */
export async function measureStalls(cpus: number[], seconds: number, when: string): Promise<CpuStalls[]> {
  return Promise.all(cpus.map(async (cpu) => ({ cpu, when, ...(await probeCpu(cpu, seconds)) })));
}

function probeCpu(cpu: number, seconds: number): Promise<StallSample> {
  const args = ['-c', String(cpu), process.execPath, join(PROCS_DIR, 'stall-probe.js'), String(seconds)];
  return new Promise((resolve, reject) => {
    execFile('taskset', args, { timeout: (seconds + 10) * 1000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`stall probe on CPU ${cpu}: ${stderr.trim() || err.message}`));
      resolve(JSON.parse(stdout) as StallSample);
    });
  });
}

/** One line per measurement, e.g. "CPU 1 before the 1000 req/s windows: 1.2% of the time, 14 gaps > 1 ms, worst 4.1 ms". */
export function describeStalls(s: CpuStalls): string {
  return `CPU ${s.cpu} ${s.when}: ${(100 * s.stalledShare).toFixed(2)}% of ${s.wallS.toFixed(1)} s lost in gaps > 50 µs, ${s.over1Ms} gaps > 1 ms, worst ${s.worstMs.toFixed(2)} ms`;
}
