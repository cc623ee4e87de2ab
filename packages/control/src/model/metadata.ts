/** metadata (Kubernetes ObjectMeta): name, namespace (defaulted), labels, annotations. */
import type { KindDef } from './kinds.js';
import type { ObjectMeta } from './objects.js';
import { describe, isPlainObject } from './validate/field-walker.js';
import { checkLabelMap } from './validate/kube-fields.js';
import { dns1123LabelError } from './validate/kube-names.js';
import { labelKeyError } from './validate/labels.js';
import type { FieldPath } from './validate/path.js';
import type { Reporter } from './validate/reporter.js';

const OBJECT_META_FIELDS = new Set([
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers',
  'managedFields',
]);

export const DEFAULT_NAMESPACE = 'default';

/** The typed metadata, or undefined when there is no usable name. */
export function parseMetadata(raw: unknown, def: KindDef, path: FieldPath, r: Reporter): ObjectMeta | undefined {
  if (raw === undefined || raw === null) {
    r.error([...path, 'name'], 'metadata.name is required');
    return undefined;
  }
  if (!isPlainObject(raw)) {
    r.shapeError(path, `must be an object, got ${describe(raw)}`);
    return undefined;
  }
  for (const key of Object.keys(raw)) {
    if (!OBJECT_META_FIELDS.has(key)) r.warn([...path, key], `unknown field "${key}" in metadata, ignored`);
  }
  const name = parseName(raw.name, def, [...path, 'name'], r);
  const namespace = parseNamespace(raw.namespace, def, [...path, 'namespace'], r);
  checkLabelMap(raw.labels, [...path, 'labels'], r);
  checkAnnotations(raw.annotations, [...path, 'annotations'], r);
  if (name === undefined || namespace === undefined) return undefined;
  return {
    name,
    namespace,
    labels: { ...((raw.labels as Record<string, string> | undefined) ?? {}) },
    annotations: { ...((raw.annotations as Record<string, string> | undefined) ?? {}) },
  };
}

function parseName(v: unknown, def: KindDef, path: FieldPath, r: Reporter): string | undefined {
  if (v === undefined || v === null || v === '') {
    r.error(path, 'metadata.name is required');
    return undefined;
  }
  if (typeof v !== 'string') {
    r.shapeError(path, `must be a string, got ${describe(v)}`);
    return undefined;
  }
  const err = def.nameError(v);
  if (err) r.error(path, `invalid name: ${err}`);
  return v;
}

function parseNamespace(v: unknown, def: KindDef, path: FieldPath, r: Reporter): string | undefined {
  if (v === undefined || v === null || v === '') return def.namespaced ? DEFAULT_NAMESPACE : '';
  if (typeof v !== 'string') {
    r.shapeError(path, `must be a string, got ${describe(v)}`);
    return undefined;
  }
  if (!def.namespaced) {
    r.warn(path, `${def.kind} is cluster-scoped; metadata.namespace is ignored`);
    return '';
  }
  const err = dns1123LabelError(v);
  if (err) r.error(path, `invalid namespace: ${err}`);
  return v;
}

function checkAnnotations(v: unknown, path: FieldPath, r: Reporter): void {
  if (v === undefined || v === null) return;
  if (!isPlainObject(v)) {
    r.shapeError(path, `must be a map, got ${describe(v)}`);
    return;
  }
  for (const [key, value] of Object.entries(v)) {
    if (typeof value !== 'string') r.shapeError([...path, key], `must be a string, got ${describe(value)} (quote it in YAML)`);
    const err = labelKeyError(key);
    if (err) r.error([...path, key], err.replace('label key', 'annotation key'));
  }
}
