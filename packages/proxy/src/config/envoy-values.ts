import { readFileSync } from 'node:fs';
import type { EnvoyJson, ResourceKind } from '@trellis/envoy-api';
import { ConfigRejected } from './raw-snapshot.js';

/**
 * Readers for Envoy's object form (snake_case, enums as names, Durations `{seconds, nanos}`, wrappers
 * `{value}`), each naming the resource and field path it reads so a refusal says exactly where it was.
 */
export class Where {
  constructor(
    readonly kind: ResourceKind,
    readonly resource: string,
  ) {}

  reject(field: string, reason: string): never {
    throw new ConfigRejected(this.kind, this.resource, field, reason);
  }
}

export function isObject(v: unknown): v is EnvoyJson {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An optional sub-message. */
export function obj(where: Where, v: unknown, field: string): EnvoyJson | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) where.reject(field, 'expected a message');
  return v;
}

/** A repeated field: absent is empty. */
export function list(where: Where, v: unknown, field: string): readonly unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) where.reject(field, 'expected a list');
  return v;
}

export function str(where: Where, v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') where.reject(field, 'expected a string');
  return v;
}

export function num(where: Where, v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) where.reject(field, 'expected a number');
  return n;
}

export function bool(where: Where, v: unknown, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') where.reject(field, 'expected a boolean');
  return v;
}

/** google.protobuf.{UInt32,BoolValue,...}: `{ value }`; absent stays undefined (distinct from the default). */
export function wrappedNum(where: Where, v: unknown, field: string): number | undefined {
  const w = obj(where, v, field);
  if (!w) return undefined;
  return num(where, w.value, `${field}.value`) ?? 0;
}

export function wrappedBool(where: Where, v: unknown, field: string): boolean | undefined {
  const w = obj(where, v, field);
  if (!w) return undefined;
  return bool(where, w.value, `${field}.value`) ?? false;
}

/** google.protobuf.Duration in milliseconds; absent is undefined. */
export function durationMs(where: Where, v: unknown, field: string): number | undefined {
  const d = obj(where, v, field);
  if (!d) return undefined;
  const seconds = num(where, d.seconds, `${field}.seconds`) ?? 0;
  const nanos = num(where, d.nanos, `${field}.nanos`) ?? 0;
  if (seconds < 0 || nanos < 0) where.reject(field, 'a negative duration is not allowed');
  return seconds * 1000 + nanos / 1e6;
}

/** An enum given by name (the object form's choice); absent is the proto default. */
export function enumName<T extends string>(
  where: Where,
  v: unknown,
  field: string,
  allowed: readonly T[],
  fallback: T,
): T {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < allowed.length) return allowed[v]!;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    where.reject(field, `unsupported value ${JSON.stringify(v)} (supported: ${allowed.join(', ')})`);
  }
  return v as T;
}

/** Which member of a proto oneof is set (the object form carries only the set one). */
export function oneofKey<T extends string>(o: EnvoyJson, members: readonly T[]): T | undefined {
  for (const m of members) if (o[m] !== undefined && o[m] !== null) return m;
  return undefined;
}

/**
 * A google.protobuf.Struct as plain JSON. protobufjs' object form spells Value's members in camelCase
 * (`numberValue`); hand-written configs may use snake_case or plain JSON, so all three are read.
 */
export function structToPlain(v: unknown): Record<string, unknown> {
  if (!isObject(v)) return {};
  if (!isObject(v.fields)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v.fields)) out[k] = structValue(val);
  return out;
}

function structValue(v: unknown): unknown {
  if (!isObject(v)) return v;
  const pick = (camel: string, snake: string) => (v[camel] !== undefined ? v[camel] : v[snake]);
  const s = pick('stringValue', 'string_value');
  if (s !== undefined) return s;
  const n = pick('numberValue', 'number_value');
  if (n !== undefined) return n;
  const b = pick('boolValue', 'bool_value');
  if (b !== undefined) return b;
  const st = pick('structValue', 'struct_value');
  if (st !== undefined) return structToPlain(st);
  const l = pick('listValue', 'list_value');
  if (isObject(l)) return Array.isArray(l.values) ? l.values.map(structValue) : [];
  return null;
}

const TYPED_STRUCTS = ['xds.type.v3.TypedStruct', 'udpa.type.v1.TypedStruct'];

/**
 * The proto name of a nested Any (its `@type` without the type.googleapis.com/ prefix); for a TypedStruct,
 * the type it stands for, as Envoy reads it.
 */
export function anyTypeName(v: EnvoyJson | undefined): string | undefined {
  const name = typeName(v?.['@type']);
  if (name !== undefined && TYPED_STRUCTS.includes(name)) return typeName(v?.type_url) ?? name;
  return name;
}

function typeName(t: unknown): string | undefined {
  if (typeof t !== 'string' || t === '') return undefined;
  const slash = t.lastIndexOf('/');
  return slash >= 0 ? t.slice(slash + 1) : t;
}

/** Fields Trellis can't honour: refused when set to anything but their empty default. */
export function rejectNonEmpty(where: Where, o: EnvoyJson, prefix: string, fields: Record<string, string>): void {
  for (const [f, reason] of Object.entries(fields)) {
    const v = o[f];
    if (v === undefined || v === null || v === '' || v === false) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    where.reject(`${prefix}${f}`, reason);
  }
}

/** config.core.v3.DataSource, read now (Envoy reads files when it loads the config, and NACKs on failure). */
export function dataSource(where: Where, v: unknown, f: string): string {
  const ds = obj(where, v, f)!;
  const kind = oneofKey(ds, ['filename', 'inline_string', 'inline_bytes', 'environment_variable'] as const);
  switch (kind) {
    case 'filename': {
      const file = str(where, ds.filename, `${f}.filename`)!;
      try {
        return readFileSync(file, 'utf8');
      } catch (err) {
        return where.reject(`${f}.filename`, `failed to load ${file} (cannot read it: ${(err as Error).message})`);
      }
    }
    case 'inline_string':
      return str(where, ds.inline_string, `${f}.inline_string`)!;
    case 'inline_bytes': {
      const b = ds.inline_bytes;
      // Decoded from the wire, bytes come as base64 (the codec's `bytes: String`); hand-built, as a Buffer.
      if (b instanceof Uint8Array) return Buffer.from(b).toString('utf8');
      return Buffer.from(str(where, b, `${f}.inline_bytes`)!, 'base64').toString('utf8');
    }
    case 'environment_variable': {
      const name = str(where, ds.environment_variable, `${f}.environment_variable`)!;
      const value = process.env[name];
      return value ?? where.reject(`${f}.environment_variable`, `environment variable ${name} is not set`);
    }
    default:
      return where.reject(f, 'one of filename, inline_string, inline_bytes, environment_variable is required');
  }
}
