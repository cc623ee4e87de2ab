/** Conversions from Istio's scalar forms (Go durations, percentages) to Envoy's messages. */

export interface Duration {
  seconds: number;
  nanos?: number;
}

const UNIT_NANOS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Parses a Go duration (`10s`, `1.5s`, `250ms`, `1h30m`) as Istio's API accepts it; undefined when malformed. */
export function parseDuration(text: string | undefined): Duration | undefined {
  if (typeof text !== 'string') return undefined;
  const s = text.trim();
  if (s === '0') return { seconds: 0 };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * UNIT_NANOS[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (consumed === 0 || consumed !== s.length || !Number.isFinite(total)) return undefined;
  return nanosToDuration(Math.round(total));
}

export function nanosToDuration(nanos: number): Duration {
  const seconds = Math.floor(nanos / 1e9);
  const rest = nanos - seconds * 1e9;
  return rest ? { seconds, nanos: rest } : { seconds };
}

export function durationToMillis(d: Duration): number {
  return d.seconds * 1000 + (d.nanos ?? 0) / 1e6;
}

export interface FractionalPercent {
  numerator: number;
  denominator: 'HUNDRED' | 'TEN_THOUSAND' | 'MILLION';
}

/** Istio's translatePercentToFractionalPercent: a 0..100 double as parts per million. */
export function percentToFraction(value: number | undefined): FractionalPercent {
  const v = typeof value === 'number' && Number.isFinite(value) ? Math.min(100, Math.max(0, value)) : 0;
  return { numerator: Math.round(v * 10_000), denominator: 'MILLION' };
}

/** Istio's translateIntegerToFractionalPercent, for the deprecated integer `percent` fields. */
export function integerPercentToFraction(value: number): FractionalPercent {
  return { numerator: Math.min(100, Math.max(0, Math.round(value))), denominator: 'HUNDRED' };
}

/** Drops undefined fields so objects stay exactly what Envoy's proto holds. */
export function compact<T extends Record<string, unknown>>(obj: T): T {
  for (const k of Object.keys(obj)) if (obj[k] === undefined) delete obj[k];
  return obj;
}

