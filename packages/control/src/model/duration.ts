/**
 * Durations as Istio users write them: Go's time.ParseDuration syntax ("1s", "500ms", "1m30s", "0.5s",
 * "1h"), which is what Istio's CRD validation (CEL `duration()`) and its JSON decoding accept.
 */

const NS_PER_UNIT: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  '\u00b5s': 1_000n, // U+00B5 micro sign
  '\u03bcs': 1_000n, // U+03BC Greek small letter mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** Go's time.Duration is an int64 of nanoseconds; longer strings are errors there, so here too. */
const MAX_NS = (1n << 63n) - 1n;

/** Nanoseconds of a Go duration string, or undefined when Go would reject it. */
export function parseDurationNanos(input: string): bigint | undefined {
  let s = input;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return undefined;

  let total = 0n;
  while (s !== '') {
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(s)!;
    const [whole, intDigits, fracDigits] = [m[0], m[1] ?? '', m[2]];
    if (intDigits === '' && (fracDigits === undefined || fracDigits === '')) return undefined;
    s = s.slice(whole.length);
    const unitMatch = /^[^0-9.]+/.exec(s);
    if (!unitMatch) return undefined; // Go: "missing unit in duration"
    const unit = NS_PER_UNIT[unitMatch[0]];
    if (unit === undefined) return undefined; // Go: "unknown unit"
    s = s.slice(unitMatch[0].length);

    let ns = BigInt(intDigits === '' ? '0' : intDigits) * unit;
    if (fracDigits) {
      // Go truncates the fraction to whole nanoseconds.
      ns += (BigInt(fracDigits) * unit) / 10n ** BigInt(fracDigits.length);
    }
    total += ns;
    if (total > MAX_NS) return undefined;
  }
  return negative ? -total : total;
}

/** Milliseconds (fractional allowed) of a Go duration string, or undefined when the syntax is invalid. */
export function parseDuration(s: string): number | undefined {
  const ns = parseDurationNanos(s);
  return ns === undefined ? undefined : Number(ns) / 1e6;
}

/** google.protobuf.Duration of a number of milliseconds (seconds and nanos share the sign, as the proto requires). */
export function durationToProto(ms: number): { seconds: number; nanos: number } {
  const totalNanos = Math.round(ms * 1e6);
  const seconds = Math.trunc(totalNanos / 1e9);
  const nanos = totalNanos - seconds * 1e9;
  return { seconds: seconds || 0, nanos: nanos || 0 }; // `|| 0` turns -0 into 0
}
