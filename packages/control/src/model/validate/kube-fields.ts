/**
 * Type checks for the Kubernetes fields Trellis reads. Kubernetes objects are not walked against a full
 * schema (their API is huge); only what the model relies on is checked, the rest passes through.
 */
import { describe, isPlainObject } from './field-walker.js';
import { labelKeyError, labelValueError } from './labels.js';
import type { FieldPath } from './path.js';
import type { Reporter } from './reporter.js';

export function checkObject(v: unknown, path: FieldPath, r: Reporter): v is Record<string, unknown> {
  if (isPlainObject(v)) return true;
  r.shapeError(path, `must be an object, got ${describe(v)}`);
  return false;
}

/** Absent (undefined/null) is fine; otherwise the value must be a string. */
export function checkOptionalString(v: unknown, path: FieldPath, r: Reporter): boolean {
  if (v === undefined || v === null || typeof v === 'string') return true;
  r.shapeError(path, `must be a string, got ${describe(v)}`);
  return false;
}

export function checkOptionalInt(v: unknown, path: FieldPath, r: Reporter, min = -(2 ** 31)): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v < 2 ** 31) return true;
  r.shapeError(path, `must be an integer${min === 0 ? ' >= 0' : ''}, got ${describe(v)}`);
  return false;
}

export function checkOptionalList(v: unknown, path: FieldPath, r: Reporter): v is unknown[] | undefined | null {
  if (v === undefined || v === null || Array.isArray(v)) return true;
  r.shapeError(path, `must be a list, got ${describe(v)}`);
  return false;
}

export function checkStringList(v: unknown, path: FieldPath, r: Reporter): void {
  if (!checkOptionalList(v, path, r) || !v) return;
  v.forEach((item, i) => checkOptionalString(item, [...path, i], r));
}

/** A label map (metadata.labels, selectors): string values, valid keys and values. */
export function checkLabelMap(v: unknown, path: FieldPath, r: Reporter): void {
  if (v === undefined || v === null) return;
  if (!checkObject(v, path, r)) return;
  for (const [key, value] of Object.entries(v)) {
    if (typeof value !== 'string') {
      r.shapeError([...path, key], `must be a string, got ${describe(value)} (quote it in YAML)`);
      continue;
    }
    const err = labelKeyError(key) ?? labelValueError(value);
    if (err) r.error([...path, key], err);
  }
}

export const PORT_PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

export function checkPortNumber(v: unknown, path: FieldPath, r: Reporter, required: boolean): void {
  if (v === undefined || v === null) {
    if (required) r.error(path, 'port number is required');
    return;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
    r.shapeError(path, `port number ${describe(v)} must be in the range 1..65535`);
  }
}

export function checkProtocol(v: unknown, path: FieldPath, r: Reporter): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'string' || !PORT_PROTOCOLS.includes(v)) r.shapeError(path, `must be one of ${PORT_PROTOCOLS.join(', ')}, got ${describe(v)}`);
}
