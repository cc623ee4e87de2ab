import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments, type Document } from 'yaml';
import { lookupKind } from '@trellis/control';

/** Who an object is: what kubectl keys it by (group, kind, namespace, name). */
export interface ObjectId {
  group: string;
  kind: string;
  apiVersion: string;
  /** '' for cluster-scoped kinds; 'default' when a namespaced object names none. */
  namespace: string;
  name: string;
}

/** One object of an input manifest, as written (raw YAML value), with its identity. */
export interface ManifestObject {
  id: ObjectId;
  raw: Record<string, unknown>;
  /** Whether Trellis models this kind (others, e.g. ServiceAccount, are not written to the mesh's folder). */
  handled: boolean;
  file: string;
  doc: number;
}

/** One input: its text and where it came from (`STDIN` for `-f -`, as kubectl names it). */
export interface ManifestText {
  file: string;
  text: string;
}

const CONFIG_FILE = /\.(ya?ml|json)$/i;

export const idKey = (id: ObjectId): string => `${id.group}/${id.kind}/${id.namespace}/${id.name}`;

/** `-f` arguments as texts: `-` is stdin, a folder is its .yaml/.yml/.json files (not recursive, like kubectl without -R). */
export async function readManifests(paths: readonly string[], stdin: NodeJS.ReadableStream): Promise<ManifestText[]> {
  const out: ManifestText[] = [];
  for (const p of paths) {
    if (p === '-') {
      out.push({ file: 'STDIN', text: await readAll(stdin) });
      continue;
    }
    if ((await stat(p)).isDirectory()) {
      const names = (await readdir(p)).filter((n) => CONFIG_FILE.test(n) && !n.startsWith('.')).sort();
      for (const n of names) out.push({ file: join(p, n), text: await readFile(join(p, n), 'utf8') });
    } else {
      out.push({ file: p, text: await readFile(p, 'utf8') });
    }
  }
  return out;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream) text += chunk as string;
  return text;
}

/**
 * The objects of a manifest, in order; `kind: List` items count one by one. A document without kind,
 * apiVersion or metadata.name is an error (returned, not thrown) naming file and document.
 */
export function manifestObjects(m: ManifestText): { objects: ManifestObject[]; errors: string[] } {
  const objects: ManifestObject[] = [];
  const errors: string[] = [];
  parseAllDocuments(m.text, { merge: true }).forEach((doc, index) => {
    if (doc.errors.length) {
      errors.push(`${m.file}#${index}: YAML syntax error: ${doc.errors[0]!.message.split('\n')[0]}`);
      return;
    }
    for (const { value } of documentObjects(doc)) {
      const id = objectId(value);
      if (typeof id === 'string') errors.push(`${m.file}#${index}: ${id}`);
      else objects.push({ id, raw: value, handled: 'found' in lookupKind(id.apiVersion, id.kind), file: m.file, doc: index });
    }
  });
  return { objects, errors };
}

/** The objects of one parsed document: the document itself, or the items of a List; `item` is the List index. */
export function documentObjects(doc: Document.Parsed): { value: Record<string, unknown>; item?: number }[] {
  const value = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  if (!isObject(value)) return [];
  if (typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items)) {
    return value.items.flatMap((v, item) => (isObject(v) ? [{ value: v, item }] : []));
  }
  return [{ value }];
}

/** The identity of a raw object, or why it has none. */
export function objectId(raw: Record<string, unknown>): ObjectId | string {
  const { apiVersion, kind } = raw;
  const metadata = isObject(raw.metadata) ? raw.metadata : {};
  if (typeof kind !== 'string' || !kind) return 'kind is required';
  if (typeof apiVersion !== 'string' || !apiVersion) return 'apiVersion is required';
  if (typeof metadata.name !== 'string' || !metadata.name) return `${kind}: metadata.name is required`;
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  const lookup = lookupKind(apiVersion, kind);
  const def = 'found' in lookup ? lookup.found : 'wrongVersion' in lookup ? lookup.wrongVersion : undefined;
  const namespaced = def ? def.namespaced : kind !== 'Namespace';
  const ns = typeof metadata.namespace === 'string' && metadata.namespace ? metadata.namespace : 'default';
  return { group, kind, apiVersion, namespace: namespaced ? ns : '', name: metadata.name };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
