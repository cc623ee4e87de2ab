import type { FieldPath } from './path.js';
import type { Reporter } from './reporter.js';

/** What a kind's rules know about the object being validated. */
export interface ValidationContext {
  r: Reporter;
  name: string;
  /** "" for cluster-scoped kinds. */
  namespace: string;
  /** Path of the object in its document: [] normally, ['items', 3] inside a List. */
  root: FieldPath;
}

/**
 * Visits the elements of a list that survived the field walker (bad or null elements stay as null
 * placeholders so indexes match the YAML; the walker already reported them).
 */
export function each<T>(list: readonly (T | null)[] | undefined, path: FieldPath, fn: (item: T, at: FieldPath, index: number) => void): void {
  list?.forEach((item, i) => {
    if (item !== null && item !== undefined) fn(item, [...path, i], i);
  });
}
