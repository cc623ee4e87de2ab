/**
 * Walks a raw YAML value against a message schema the way Istio's CRD schema and JSON decoding would:
 * wrong types are errors, unknown fields are warnings (and left out), `null` counts as absent, and at
 * most one field of a proto `oneof` may be set. The result keeps only known, well-typed fields.
 */
import { parseDuration } from '../duration.js';
import type { FieldPath } from './path.js';
import type { Reporter } from './reporter.js';

export type FieldType =
  | { t: 'string' }
  | { t: 'bool' }
  | { t: 'int32' }
  | { t: 'uint32' }
  | { t: 'uint64' }
  | { t: 'double' }
  /** A Go duration string ("1s", "500ms"); range rules are per field, as in Istio. */
  | { t: 'duration' }
  | { t: 'enum'; values: readonly string[] }
  | { t: 'message'; schema: MessageSchema }
  | { t: 'list'; of: FieldType }
  /** An object with arbitrary string keys (proto map<string, V>). */
  | { t: 'map'; of: FieldType };

export interface MessageSchema {
  /** Istio's message name, for messages like `unknown field "foo" in HTTPRoute`. */
  name: string;
  fields: Readonly<Record<string, FieldType>>;
  /** Groups of fields that form a proto `oneof`. */
  oneofs?: readonly (readonly string[])[];
  /** Deprecated but accepted fields -> what to use instead. */
  deprecated?: Readonly<Record<string, string>>;
}

export const STRING: FieldType = { t: 'string' };
export const BOOL: FieldType = { t: 'bool' };
export const INT32: FieldType = { t: 'int32' };
export const UINT32: FieldType = { t: 'uint32' };
export const UINT64: FieldType = { t: 'uint64' };
export const DOUBLE: FieldType = { t: 'double' };
export const DURATION: FieldType = { t: 'duration' };
export const enumOf = (...values: string[]): FieldType => ({ t: 'enum', values });
export const listOf = (of: FieldType): FieldType => ({ t: 'list', of });
export const mapOf = (of: FieldType): FieldType => ({ t: 'map', of });
export const messageOf = (schema: MessageSchema): FieldType => ({ t: 'message', schema });

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The typed copy of a message, or undefined (after reporting) when the value isn't an object. */
export function walkMessage(schema: MessageSchema, value: unknown, path: FieldPath, r: Reporter): Record<string, unknown> | undefined {
  if (!isPlainObject(value)) {
    r.shapeError(path, `must be an object (${schema.name}), got ${describe(value)}`);
    return undefined;
  }
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(value)) {
    const fieldPath = [...path, key];
    const type = schema.fields[key];
    if (type === undefined) {
      r.warn(fieldPath, `unknown field "${key}" in ${schema.name}, ignored`);
      continue;
    }
    if (raw === null || raw === undefined) continue;
    const replacement = schema.deprecated?.[key];
    if (replacement !== undefined) r.warn(fieldPath, `using deprecated setting "${key}", use ${replacement} instead`);
    const typed = walkField(type, raw, fieldPath, r);
    if (typed !== undefined) out[key] = typed;
  }
  for (const group of schema.oneofs ?? []) {
    const set = group.filter((f) => value[f] !== undefined && value[f] !== null);
    if (set.length > 1) r.error(path, `only one of ${group.join(', ')} may be set, found ${set.join(' and ')}`);
  }
  return out;
}

/** The typed copy of a field, or undefined (after reporting) when it has the wrong type. */
export function walkField(type: FieldType, value: unknown, path: FieldPath, r: Reporter): unknown {
  switch (type.t) {
    case 'string':
      return expect(typeof value === 'string', value, path, r, 'a string');
    case 'bool':
      return expect(typeof value === 'boolean', value, path, r, 'a boolean');
    case 'int32':
      return expect(isIntIn(value, -(2 ** 31), 2 ** 31 - 1), value, path, r, 'an integer');
    case 'uint32':
      return expect(isIntIn(value, 0, 2 ** 32 - 1), value, path, r, 'a non-negative integer');
    case 'uint64':
      return expect(isIntIn(value, 0, Number.MAX_SAFE_INTEGER), value, path, r, 'a non-negative integer');
    case 'double':
      return expect(typeof value === 'number' && Number.isFinite(value), value, path, r, 'a number');
    case 'duration':
      return walkDuration(value, path, r);
    case 'enum':
      return walkEnum(type.values, value, path, r);
    case 'message':
      return walkMessage(type.schema, value, path, r);
    case 'list':
      return walkList(type.of, value, path, r);
    case 'map':
      return walkMap(type.of, value, path, r);
  }
}

function expect(ok: boolean, value: unknown, path: FieldPath, r: Reporter, what: string): unknown {
  if (ok) return value;
  r.shapeError(path, `must be ${what}, got ${describe(value)}`);
  return undefined;
}

function isIntIn(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

function walkDuration(value: unknown, path: FieldPath, r: Reporter): string | undefined {
  if (typeof value !== 'string' || parseDuration(value) === undefined) {
    r.shapeError(path, `must be a duration like "1s", "500ms", "1m" or "1h30m", got ${describe(value)}`);
    return undefined;
  }
  return value;
}

function walkEnum(values: readonly string[], value: unknown, path: FieldPath, r: Reporter): string | undefined {
  if (typeof value !== 'string' || !values.includes(value)) {
    r.shapeError(path, `must be one of ${values.join(', ')}, got ${describe(value)}`);
    return undefined;
  }
  return value;
}

/** Elements keep their index (null for a bad one) so later rules report the paths the user wrote. */
function walkList(of: FieldType, value: unknown, path: FieldPath, r: Reporter): unknown[] | undefined {
  if (!Array.isArray(value)) {
    r.shapeError(path, `must be a list, got ${describe(value)}`);
    return undefined;
  }
  return value.map((item, i) => {
    if (item === null || item === undefined) {
      r.shapeError([...path, i], 'must not be null');
      return null;
    }
    return walkField(of, item, [...path, i], r) ?? null;
  });
}

function walkMap(of: FieldType, value: unknown, path: FieldPath, r: Reporter): Record<string, unknown> | undefined {
  if (!isPlainObject(value)) {
    r.shapeError(path, `must be a map, got ${describe(value)}`);
    return undefined;
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === null || item === undefined) {
      r.shapeError([...path, key], 'must not be null');
      continue;
    }
    const typed = walkField(of, item, [...path, key], r);
    if (typed !== undefined) out[key] = typed;
  }
  return out;
}

/** A short description of a YAML value for messages: `"abc"`, `25`, `a list`, `an object`. */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return JSON.stringify(v);
}
