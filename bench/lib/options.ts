/**
 * Command-line options: `--quick` (smoke run), `--only NAME[,NAME]`, `--high-rate N`, `--low-rate-only`,
 * `--repeat N`, `--write`.
 */
import { parseArgs } from 'node:util';
import { TARGET_NAMES, type TargetName } from './targets.js';

export interface BenchOptions {
  quick: boolean;
  targets: TargetName[];
  /** Fixed: the brief's reference rate. */
  lowRate: number;
  /** The higher fixed rate; undefined = 5000, lowered to what every target sustains. */
  highRate: number | undefined;
  connections: number;
  saturateWarmupS: number;
  saturateS: number;
  fixedWarmupS: number;
  /** Per payload, before a target's first 1000 req/s window: a fresh proxy runs this long before it is measured. */
  targetWarmupS: number;
  lowRateS: number;
  highRateS: number;
  timeoutMs: number;
  /** Measure only the 1000 req/s windows (no saturation, no higher rate): the latency bar alone, in minutes. */
  lowRateOnly: boolean;
  /** How many times each 1000 req/s window is measured, targets interleaved (a p99's spread over time). */
  repeat: number;
  /** Write bench/RESULTS.md even if other processes disturbed the run. */
  write: boolean;
  /** The command line as typed, for RESULTS.md. */
  argv: string[];
}

export const USAGE = `usage: npm run bench -- [--quick] [--only ${TARGET_NAMES.join('|')}[,...]] [--high-rate N] [--low-rate-only] [--repeat N] [--write]

A full run over all targets writes bench/RESULTS.md, unless other processes took noticeable CPU while it
measured (then --write forces it). --low-rate-only measures only the 1000 req/s windows; --repeat N measures
each of them, and each saturation window, N times, the targets taking turns (a saturation row keeps its median).`;

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      'high-rate': { type: 'string' },
      'low-rate-only': { type: 'boolean', default: false },
      repeat: { type: 'string', default: '1' },
      write: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) throw new UsageError(USAGE, 0);
  const only = (values.only ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  for (const name of only) {
    if (!(TARGET_NAMES as readonly string[]).includes(name)) throw new UsageError(`unknown target ${name}\n${USAGE}`);
  }
  const highRate = values['high-rate'] === undefined ? undefined : Number(values['high-rate']);
  if (highRate !== undefined && !(Number.isInteger(highRate) && highRate > 0)) {
    throw new UsageError(`--high-rate must be a positive integer\n${USAGE}`);
  }
  const repeat = Number(values.repeat);
  if (!(Number.isInteger(repeat) && repeat >= 1 && repeat <= 20)) throw new UsageError(`--repeat must be an integer from 1 to 20\n${USAGE}`);
  const quick = values.quick;
  return {
    quick,
    targets: only.length ? TARGET_NAMES.filter((n) => only.includes(n)) : [...TARGET_NAMES],
    lowRate: 1000,
    highRate,
    connections: 50,
    saturateWarmupS: quick ? 0.5 : 2,
    saturateS: quick ? 1.5 : 8,
    // Before each measured fixed-rate window: the client's connections open and the rate settles.
    fixedWarmupS: quick ? 0.3 : 4,
    // A fresh sidecar pair's p99 at 1000 req/s settles only after ~30 s (JIT compilation: ~160 functions in the
    // first 5 s, a few per 5 s after 20 s), so every target gets 30 s before its first measured window.
    targetWarmupS: quick ? 0.3 : 10,
    lowRateS: quick ? 1 : 10,
    highRateS: quick ? 1 : 6,
    timeoutMs: 2000,
    lowRateOnly: values['low-rate-only'],
    repeat,
    write: values.write,
    argv,
  };
}

export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}
