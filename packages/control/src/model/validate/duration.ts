/** Istio's rule for the durations it checks (agent.ValidateDuration): at least 1ms, whole milliseconds. */
import { parseDurationNanos } from '../duration.js';
import type { FieldPath } from './path.js';
import type { Reporter } from './reporter.js';

const NS_PER_MS = 1_000_000n;

/** `value` already passed the field walker (valid syntax); absent values are fine. */
export function validateDurationAtLeast1ms(value: string | undefined, path: FieldPath, r: Reporter): void {
  if (value === undefined) return;
  const ns = parseDurationNanos(value);
  if (ns === undefined) return;
  if (ns < NS_PER_MS) r.error(path, `duration must be at least 1ms, got "${value}"`);
  else if (ns % NS_PER_MS !== 0n) r.error(path, `only durations to ms precision are supported, got "${value}"`);
}

export function durationIsZero(value: string): boolean {
  return parseDurationNanos(value) === 0n;
}

export function durationHasSubSecondPart(value: string): boolean {
  const ns = parseDurationNanos(value);
  return ns !== undefined && ns % 1_000_000_000n !== 0n;
}
