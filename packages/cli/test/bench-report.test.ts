import { describe, expect, it } from 'vitest';
import type { FixedRateResult, SaturateResult } from '../../../bench/lib/jobs.js';
import { medianSaturation, type Measured, type Row } from '../../../bench/lib/measure.js';
import { warmUpNote } from '../../../bench/lib/notes.js';
import { parseOptions, UsageError } from '../../../bench/lib/options.js';
import { renderReport, type BenchReport } from '../../../bench/lib/report.js';
import { spinAndRecordGaps } from '../../../bench/lib/stalls.js';

// The bench's command line and the bars its report judges: a wrong verdict here would misstate the figures.

function window(p99Us: number): Measured<FixedRateResult> {
  const result = { sent: 1000, ok: 1000, errors: 0, timeouts: 0, bad: 0, achievedRps: 1000, p50Us: 100, p90Us: 200, p99Us, maxUs: p99Us, sendLagP99Us: 5 };
  return { result, proxyCpuS: 0.1, loadCpuS: 0.1, otherCpuS: 0, wallS: 1, attempts: 1 };
}

function saturation(rps: number, non2xx = 0): Measured<SaturateResult> {
  const result = { ok: rps * 8, durationS: 8, rps, errors: 0, timeouts: 0, non2xx, mismatches: 0, p50Ms: 1, p99Ms: 2 };
  return { result, proxyCpuS: 4, loadCpuS: 8, otherCpuS: 0, wallS: 8, attempts: 1 };
}

type LowRateP99s = { direct: number[]; mesh: number[]; 'nginx-2hop'?: number[]; 'node-relay-2hop'?: number[] };

function lowRateReport(argv: string[], p99s: LowRateP99s, stalls: BenchReport['stalls'] = []): string {
  const targets = (['direct', 'mesh', 'nginx-2hop', 'node-relay-2hop'] as const).filter((t) => p99s[t] !== undefined);
  const rows: Row[] = targets.flatMap((target) =>
    (['small', '1k-response', '1k-post'] as const).map((payload) => {
      const lowRepeats = p99s[target]!.map(window);
      return { target, payload, low: lowRepeats[0], lowRepeats };
    }),
  );
  return reportOf(argv, rows, stalls);
}

/** Rows for the sidecar and http-proxy with these saturation windows (req/s, in the order they ran). */
function saturationReport(argv: string[], windows: { sidecar: number[]; 'http-proxy': number[] }): string {
  const rows: Row[] = (['sidecar', 'http-proxy'] as const).flatMap((target) =>
    (['small', '1k-response', '1k-post'] as const).map((payload) => {
      const saturationRepeats = windows[target].map(saturation);
      return { target, payload, saturation: medianSaturation(saturationRepeats), saturationRepeats };
    }),
  );
  return reportOf(argv, rows);
}

function reportOf(argv: string[], rows: Row[], stalls: BenchReport['stalls'] = []): string {
  const options = parseOptions(argv);
  const report: BenchReport = {
    rows,
    unavailable: [],
    rss: {},
    rssAtLowRate: {},
    highRate: { rate: 1000, note: 'not measured' },
    cpus: { load: 0, proxy: 1, pinned: true },
    stalls,
    facts: { nproc: 2, cpuModel: 'test', memoryGiB: 4, kernel: 'test', node: process.version, nginx: 'none', loadAverage: [0, 0, 0] },
    options,
    command: 'npm run bench',
    elapsedS: 1,
    notes: [],
  };
  return renderReport(report);
}

const latencyBar = (text: string) => text.split('\n').find((l) => l.includes('adds ≤ 1 ms p99'))!;

const stall = (cpu: number, over1Ms: number, worstMs: number) => ({ cpu, when: 'before', wallS: 3, stalledShare: 0.012, over1Ms, worstMs });

describe('bench options', () => {
  it('defaults to one window per row and a full run', () => {
    expect(parseOptions([])).toMatchObject({ repeat: 1, lowRateOnly: false, lowRate: 1000 });
  });

  it('takes --repeat and --low-rate-only', () => {
    expect(parseOptions(['--repeat', '4', '--low-rate-only', '--only', 'direct,mesh'])).toMatchObject({
      repeat: 4,
      lowRateOnly: true,
      targets: ['direct', 'mesh'],
    });
  });

  it('refuses a repeat count that is not a small positive integer', () => {
    for (const bad of ['0', '2.5', 'x', '21']) expect(() => parseOptions(['--repeat', bad])).toThrow(UsageError);
  });
});

describe('bench report: the 2-sidecar latency bar', () => {
  it('judges one window by its difference', () => {
    const text = lowRateReport([], { direct: [300], mesh: [1200] });
    expect(latencyBar(text)).toContain('**met**');
    expect(latencyBar(text)).toContain('small 0.90 ms');
    expect(text).not.toContain('Every window at 1000 req/s');
  });

  it('judges repeated windows by the worst pair, and lists every window', () => {
    const text = lowRateReport(['--repeat', '3'], { direct: [300, 250, 400], mesh: [1000, 1350, 900] });
    expect(latencyBar(text)).toContain('**not met**');
    expect(latencyBar(text)).toContain('small 1.10 ms');
    expect(latencyBar(text)).toContain('the worst of 3 windows');
    expect(text).toContain('worst 1100 µs (700, 1100, 500)');
    expect(text).toContain('| 100 / 1000 | 100 / 1350 | 100 / 900 |');
  });

  it("puts the machine's own stalls next to the bar when the probe saw any over 1 ms", () => {
    const quiet = lowRateReport([], { direct: [300], mesh: [900] }, [stall(0, 0, 0.4), stall(1, 0, 0.6)]);
    expect(quiet).not.toContain('- context:');
    expect(quiet).toContain('CPU 1 before: 1.20% of 3.0 s lost in gaps > 50 µs, 0 gaps > 1 ms, worst 0.60 ms');
    const noisy = lowRateReport([], { direct: [300], mesh: [900] }, [stall(0, 3, 2.5), stall(1, 12, 4.1)]);
    expect(noisy).toContain('up to 4.0 gaps > 1 ms per second (worst 4.1 ms)');
  });

  it('sets two nginx hops, measured in the same windows, beside the bar as its yardstick', () => {
    const without = lowRateReport(['--repeat', '2'], { direct: [300, 400], mesh: [1500, 1900] });
    expect(without).not.toContain('- reference:');
    const text = lowRateReport(['--repeat', '2'], { direct: [300, 400], mesh: [1500, 1900], 'nginx-2hop': [900, 1000] });
    const lines = text.split('\n');
    const bar = lines.findIndex((l) => l.includes('adds ≤ 1 ms p99'));
    expect(lines[bar]).toContain('small 1.50 ms');
    expect(lines[bar + 1]).toBe('  - reference: two nginx hops, laid out as the two sidecars are, in the same windows (p99 over direct, the worst window): small +0.60 ms, 1k-response +0.60 ms, 1k-post +0.60 ms.');
    const faster = lowRateReport([], { direct: [1300], mesh: [1500], 'nginx-2hop': [900] });
    expect(faster).toContain('(p99 over direct, the worst window): small −0.40 ms,');
    expect(text).toContain('worst 1500 µs (1200, 1500) | worst 600 µs (600, 600) | — |');
  });

  it('sets two bare Node relays beside the bar too: what two Node processes cost before any proxy work', () => {
    const text = lowRateReport(['--repeat', '2'], { direct: [300, 400], mesh: [1500, 1900], 'nginx-2hop': [900, 1000], 'node-relay-2hop': [1000, 1500] });
    const lines = text.split('\n');
    const bar = lines.findIndex((l) => l.includes('adds ≤ 1 ms p99'));
    expect(lines[bar + 1]).toContain('- reference: two nginx hops,');
    expect(lines[bar + 2]).toBe('  - reference: two bare Node TCP relays (no HTTP work), laid out as the two sidecars are, in the same windows (p99 over direct, the worst window): small +1.10 ms, 1k-response +1.10 ms, 1k-post +1.10 ms.');
    expect(text).toContain('worst 600 µs (600, 600) | worst 1100 µs (700, 1100) |');
  });
});

describe('bench saturation windows', () => {
  it('keeps the median window (the lower middle of an even count)', () => {
    expect(medianSaturation([19000, 25000, 24000].map(saturation)).result.rps).toBe(24000);
    expect(medianSaturation([25000, 19000].map(saturation)).result.rps).toBe(19000);
    expect(medianSaturation([21000].map(saturation)).result.rps).toBe(21000);
  });

  it('judges the throughput bars on the median window and lists every window', () => {
    // The first sidecar window alone (19000) would be 1.90× http-proxy: not met.
    const text = saturationReport(['--repeat', '3'], { sidecar: [19000, 25000, 24000], 'http-proxy': [10000, 11000, 10000] });
    expect(text).toContain('- one sidecar hop ≥ 2× http-proxy throughput: **met** (small 2.40×, 1k-response 2.40×, 1k-post 2.40×)');
    expect(text).toContain('| small | 24000 (19000, 25000, 24000) |');
    expect(text).toContain('a row shows its median window (every window in brackets)');
    const once = saturationReport([], { sidecar: [19000], 'http-proxy': [10000] });
    expect(once).toContain('- one sidecar hop ≥ 2× http-proxy throughput: **not met** (small 1.90×');
    expect(once).toContain('| small | 19000 |');
    // Errors are counted over every window, not only the median one's.
    const rows: Row[] = [{ target: 'sidecar', payload: 'small', saturationRepeats: [saturation(19000, 5), saturation(25000), saturation(24000, 2)] }];
    rows[0]!.saturation = medianSaturation(rows[0]!.saturationRepeats!);
    expect(reportOf(['--repeat', '3'], rows)).toContain('| 7 / — / — | 0 / — / — |');
  });
});

describe('bench stall probe', () => {
  it('adds up the gaps between clock reads longer than 50 µs', () => {
    // A clock that advances 1 µs per read, except for a 4 ms and a 0.2 ms jump: 4.2 ms lost, one gap > 1 ms.
    let t = 0;
    let reads = 0;
    const clock = () => {
      reads++;
      t += reads === 100 ? 4 : reads === 200 ? 0.2 : 0.001;
      return t;
    };
    const s = spinAndRecordGaps(0.01, clock);
    expect(s.over1Ms).toBe(1);
    expect(s.worstMs).toBeCloseTo(4, 6);
    expect(s.stalledShare * s.wallS * 1000).toBeCloseTo(4.2, 6);
    expect(s.wallS).toBeGreaterThanOrEqual(0.01);
  });

  it('measures the real clock for the time asked', () => {
    const s = spinAndRecordGaps(0.05);
    expect(s.wallS).toBeGreaterThanOrEqual(0.05);
    expect(s.wallS).toBeLessThan(1);
    expect(s.stalledShare).toBeGreaterThanOrEqual(0);
    expect(s.stalledShare).toBeLessThan(1);
  });
});

describe('bench warm-up note', () => {
  it("keeps each fresh target's warm-up p99, payload by payload, in ms", () => {
    const [note] = warmUpNote(
      [
        { target: 'direct', p99Us: [612, 498, 455] },
        { target: 'mesh', p99Us: [4554, 1864, 1240] },
      ],
      10,
      1000,
    );
    expect(note).toContain('for 10 s at 1000 req/s');
    expect(note).toContain('(small / 1k-response / 1k-post)');
    expect(note).toContain('direct 0.61 / 0.50 / 0.46; mesh 4.55 / 1.86 / 1.24');
  });

  it('says nothing when no target was warmed (every row unavailable)', () => {
    expect(warmUpNote([], 10, 1000)).toEqual([]);
  });
});
