import { Where, enumName, num, obj } from './envoy-values.js';

const DENOMINATORS = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 } as const;

/**
 * An envoy.type.v3.FractionalPercent as a probability in [0, 1]; absent is `absent` (the proto's empty
 * message is numerator 0, i.e. never). A numerator above its denominator means always, as in Envoy.
 */
export function fractionalPercent(where: Where, v: unknown, field: string, absent = 0): number {
  const fp = obj(where, v, field);
  if (!fp) return absent;
  const numerator = num(where, fp.numerator, `${field}.numerator`) ?? 0;
  if (!Number.isInteger(numerator) || numerator < 0) where.reject(`${field}.numerator`, `invalid numerator ${numerator}`);
  const denominator = DENOMINATORS[enumName(where, fp.denominator, `${field}.denominator`, ['HUNDRED', 'TEN_THOUSAND', 'MILLION'], 'HUNDRED')];
  return Math.min(1, numerator / denominator);
}

/**
 * An envoy.config.core.v3.RuntimeFractionalPercent: Trellis has no runtime layer, so `runtime_key` never
 * overrides and `default_value` decides. Absent is `absent`.
 */
export function runtimeFraction(where: Where, v: unknown, field: string, absent: number): number {
  const rf = obj(where, v, field);
  if (!rf) return absent;
  return fractionalPercent(where, rf.default_value, `${field}.default_value`);
}

/** One draw against a probability (Envoy's featureEnabled); 0 and 1 cost no random number. */
export function sample(probability: number): boolean {
  if (probability >= 1) return true;
  if (probability <= 0) return false;
  return Math.random() < probability;
}
