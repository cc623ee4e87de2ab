/**
 * A stall probe (in the spirit of jHiccup): spins on the monotonic clock for the given seconds on whatever CPU
 * it is pinned to and records every gap longer than 50 µs between two consecutive reads. A spinning thread
 * only sees such gaps when something else took its CPU: another task, an interrupt, or (in a VM) the host
 * descheduling the virtual CPU. Prints one JSON line: a StallSample.
 * Usage: node stall-probe.js SECONDS
 */
import { spinAndRecordGaps } from '../lib/stalls.js';

const seconds = Number(process.argv[2] ?? '2');
if (!(seconds > 0 && seconds <= 60)) {
  process.stderr.write('usage: node stall-probe.js SECONDS (0 < SECONDS <= 60)\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(spinAndRecordGaps(seconds))}\n`);
