import type protobuf from 'protobufjs';
import { envoyRoot } from './protos.js';

/**
 * The JSON-ish form Trellis uses for Envoy messages, as Envoy's config_dump shows them: snake_case
 * fields, enums as names, nested Anys as `{ "@type": "type.googleapis.com/...", ...fields }`.
 * Durations are `{ seconds, nanos }` and wrappers `{ value }` (protobufjs' object form, not proto3 JSON).
 */
export type EnvoyJson = { [field: string]: unknown };

/** google.protobuf.Any on the wire. */
export interface AnyMessage {
  type_url: string;
  value: Uint8Array;
}

const TYPE_PREFIX = 'type.googleapis.com/';

function messageType(typeUrl: string): protobuf.Type {
  const name = typeUrl.startsWith(TYPE_PREFIX) ? typeUrl.slice(TYPE_PREFIX.length) : typeUrl;
  return envoyRoot().lookupType(name);
}

/**
 * Converts the object form to a message. protobufjs' fromObject silently drops unknown fields and
 * coerces bad values, so first walk the object: a field the proto lacks or an enum name it doesn't
 * know is a bug in whoever built the object, and must not reach the wire as a quietly different config.
 */
function fromObjectStrict(type: protobuf.Type, obj: EnvoyJson): protobuf.Message {
  checkObject(type, obj, type.fullName.slice(1));
  return type.fromObject(obj);
}

function checkObject(type: protobuf.Type, obj: EnvoyJson, path: string): void {
  if (type.fullName === '.google.protobuf.Any' && typeof obj['@type'] === 'string') {
    const { ['@type']: url, ...fields } = obj;
    checkObject(messageType(url as string), fields, `${path}(${url})`);
    return;
  }
  for (const [key, value] of Object.entries(obj)) {
    const field = type.fields[key];
    if (!field) throw new Error(`${path}.${key}: no such field in ${type.fullName.slice(1)}`);
    if (value === undefined || value === null) continue;
    const items = field.repeated ? (Array.isArray(value) ? value : [value]) : [value];
    if (field.map) {
      for (const [k, v] of Object.entries(value as object)) checkValue(field, v, `${path}.${key}[${k}]`);
      continue;
    }
    items.forEach((v, i) => checkValue(field, v, field.repeated ? `${path}.${key}[${i}]` : `${path}.${key}`));
  }
}

function checkValue(field: protobuf.Field, value: unknown, path: string): void {
  const resolved = field.resolvedType;
  if (resolved && 'fields' in resolved) {
    if (typeof value !== 'object' || value === null) throw new Error(`${path}: expected a message object`);
    checkObject(resolved as protobuf.Type, value as EnvoyJson, path);
  } else if (resolved && typeof value === 'string' && !(value in (resolved as protobuf.Enum).values)) {
    throw new Error(`${path}: ${value} is not a value of ${resolved.fullName.slice(1)}`);
  }
}

/** Encodes one resource, packing nested `@type` objects into real Anys. */
export function encodeAny(typeUrl: string, obj: EnvoyJson): AnyMessage {
  const type = messageType(typeUrl);
  const { ['@type']: _ignored, ...fields } = obj;
  const value = type.encode(fromObjectStrict(type, fields)).finish();
  return { type_url: typeUrl, value };
}

const TO_OBJECT: protobuf.IConversionOptions = {
  enums: String,
  longs: Number,
  bytes: String,
  defaults: false,
  arrays: false,
  oneofs: false,
  json: true,
};

/** Decodes an Any (resource or nested) into the object form, `@type` included. */
export function decodeAny(any: AnyMessage): EnvoyJson {
  const type = messageType(any.type_url);
  const obj = type.toObject(type.decode(any.value), TO_OBJECT) as EnvoyJson;
  return { '@type': any.type_url, ...obj };
}

/** Decodes the value of an Any of the given type, without the `@type` key. */
export function decodeMessage(typeUrl: string, bytes: Uint8Array): EnvoyJson {
  const type = messageType(typeUrl);
  return type.toObject(type.decode(bytes), TO_OBJECT) as EnvoyJson;
}
