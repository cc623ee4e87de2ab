import type { Percent } from '../istio-types.js';
import type { FieldPath } from './path.js';
import type { Reporter } from './reporter.js';

/** Istio's fractional `Percent`: 0, or 0.0001..100 (Envoy's smallest fraction is a millionth). */
export function validatePercentage(p: Percent | undefined, path: FieldPath, r: Reporter): void {
  const v = p?.value;
  if (v === undefined) return;
  if (v < 0 || v > 100 || (v > 0 && v < 0.0001)) {
    r.error([...path, 'value'], `percentage ${v} is neither 0.0, nor in range [0.0001, 100.0]`);
  }
}

/** Integer percentages (outlier detection, deprecated fault `percent`). */
export function validatePercentInt(v: number | undefined, path: FieldPath, r: Reporter): void {
  if (v !== undefined && (v < 0 || v > 100)) r.error(path, `percentage ${v} is not in range 0..100`);
}
