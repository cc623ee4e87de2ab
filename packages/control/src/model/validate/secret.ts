/**
 * Kubernetes Secret: what gateways read from it (a `kubernetes.io/tls` Secret's `tls.crt` / `tls.key`, and
 * `ca.crt` for mutual TLS). The API server's rules that matter here: `data` values are base64, keys are
 * config keys, and a TLS Secret carries both halves of its key pair.
 */
import type { SecretSpec } from '../kube-types.js';
import type { ValidationContext } from './context.js';
import { checkObject, checkOptionalString } from './kube-fields.js';
import type { FieldPath } from './path.js';
import type { Reporter } from './reporter.js';

export const SECRET_FIELDS = ['type', 'data', 'stringData', 'immutable'] as const;

/** Kubernetes' IsConfigMapKey. */
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function validateSecret(raw: unknown, ctx: ValidationContext, path: FieldPath): SecretSpec | undefined {
  const { r } = ctx;
  if (!checkObject(raw, path, r)) return undefined;
  checkOptionalString(raw.type, [...path, 'type'], r);
  const data = stringMap(raw.data, [...path, 'data'], r, true);
  const stringData = stringMap(raw.stringData, [...path, 'stringData'], r, false);
  const spec: SecretSpec = {};
  if (typeof raw.type === 'string') spec.type = raw.type;
  if (data) spec.data = data;
  if (stringData) spec.stringData = stringData;
  if (spec.type === 'kubernetes.io/tls') {
    for (const key of ['tls.crt', 'tls.key']) {
      if (spec.data?.[key] === undefined && spec.stringData?.[key] === undefined) r.error([...path, 'data', key], `a kubernetes.io/tls Secret requires ${key}`);
    }
  }
  return spec;
}

function stringMap(v: unknown, path: FieldPath, r: Reporter, base64: boolean): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!checkObject(v, path, r)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(v)) {
    if (!CONFIG_KEY.test(key) || key.length > 253) r.error([...path, key], `invalid key "${key}": must consist of alphanumerics, '-', '_' or '.'`);
    if (typeof value !== 'string') {
      r.shapeError([...path, key], 'must be a string');
      continue;
    }
    const compact = value.replace(/\s+/g, '');
    if (base64 && (compact.length % 4 !== 0 || !BASE64.test(compact))) r.error([...path, key], 'data values must be base64');
    out[key] = base64 ? compact : value;
  }
  return out;
}

/** A Secret key's bytes as text: `stringData` wins over `data` (base64), as the API server merges them. */
export function secretValue(spec: SecretSpec | undefined, key: string): string | undefined {
  const plain = spec?.stringData?.[key];
  if (plain !== undefined) return plain;
  const encoded = spec?.data?.[key];
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
}
