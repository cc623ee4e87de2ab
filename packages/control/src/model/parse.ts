/**
 * Multi-document YAML (or JSON) text -> validated, typed config objects plus every problem found, each
 * naming file, document, object, field and line. An object with errors is left out; one with only
 * warnings is kept. Kinds Trellis doesn't handle are reported as warnings, never dropped silently.
 */
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { ConfigIssue } from './issues.js';
import { apiVersionsOf, lookupKind, type KindDef } from './kinds.js';
import { parseMetadata } from './metadata.js';
import { objectRef, type ConfigObject } from './objects.js';
import type { ValidationContext } from './validate/context.js';
import { describe, isPlainObject } from './validate/field-walker.js';
import { formatPath, type FieldPath } from './validate/path.js';
import { validatePodStatus } from './validate/pod.js';
import { Reporter } from './validate/reporter.js';

export interface ParseResult {
  objects: ConfigObject[];
  issues: ConfigIssue[];
}

const TOP_LEVEL_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);

export function parseConfigText(text: string, file: string): ParseResult {
  const result: ParseResult = { objects: [], issues: [] };
  const lineCounter = new LineCounter();
  // Kubernetes manifests are read by a YAML 1.1-era parser that honours merge keys (`<<: *anchor`).
  const docs = parseAllDocuments(text, { lineCounter, merge: true });
  if (!Array.isArray(docs)) return result; // no documents at all
  docs.forEach((doc, index) => parseDocument(doc, index, file, lineCounter, result));
  return result;
}

function parseDocument(doc: Document.Parsed, index: number, file: string, lines: LineCounter, out: ParseResult): void {
  const error = doc.errors[0];
  if (error) {
    const line = error.linePos?.[0];
    const reason = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    const where = line ? ` at line ${line.line}, column ${line.col}` : '';
    out.issues.push({ severity: 'error', file, doc: index, line: line?.line, message: `YAML syntax error${where}: ${reason}` });
    return;
  }
  for (const w of doc.warnings) {
    out.issues.push({ severity: 'warning', file, doc: index, line: w.linePos?.[0].line, message: w.message.split('\n')[0]! });
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    out.issues.push({ severity: 'error', file, doc: index, message: `YAML error: ${(e as Error).message}` });
    return;
  }
  if (value === null || value === undefined) return; // empty document (e.g. a trailing `---`)
  const source: DocSource = { file, doc: index, lineOf: lineLocator(doc, lines) };
  parseObject(value, [], source, out);
}

interface DocSource {
  file: string;
  doc: number;
  lineOf(path: FieldPath): number | undefined;
}

/** Line of a field, or of its nearest ancestor present in the YAML (for "x is required"). */
function lineLocator(doc: Document.Parsed, lines: LineCounter): (path: FieldPath) => number | undefined {
  return (path) => {
    for (let k = path.length; k >= 0; k--) {
      const node = k === 0 ? doc.contents : doc.getIn(path.slice(0, k), true);
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range) return lines.linePos(range[0]).line;
    }
    return undefined;
  };
}

function parseObject(raw: unknown, root: FieldPath, src: DocSource, out: ParseResult): void {
  const issue = (severity: ConfigIssue['severity'], path: FieldPath, message: string, object?: string): void => {
    out.issues.push({ severity, file: src.file, doc: src.doc, object, path: formatPath(path) || undefined, line: src.lineOf(path), message });
  };
  if (!isPlainObject(raw)) {
    issue('error', root, `a Kubernetes object (a mapping with apiVersion and kind) is expected, got ${describe(raw)}`);
    return;
  }
  const { apiVersion, kind } = raw;
  if (typeof kind !== 'string' || kind === '') {
    issue('error', [...root, 'kind'], 'kind is required');
    return;
  }
  if (typeof apiVersion !== 'string' || apiVersion === '') {
    issue('error', [...root, 'apiVersion'], 'apiVersion is required');
    return;
  }
  if (isList(raw)) {
    (raw.items as unknown[]).forEach((item, i) => parseObject(item, [...root, 'items', i], src, out));
    return;
  }
  const ref = provisionalRef(kind, raw.metadata);
  const lookup = lookupKind(apiVersion, kind);
  if ('unsupported' in lookup) {
    issue('warning', root, `unsupported kind ${apiVersion}/${kind}, ignored`, ref);
    return;
  }
  if ('wrongVersion' in lookup) {
    const versions = apiVersionsOf(lookup.wrongVersion).join(', ');
    issue('error', [...root, 'apiVersion'], `apiVersion ${apiVersion} is not supported for ${kind} (use ${versions})`, ref);
    return;
  }
  const r = new Reporter();
  const object = buildObject(raw, lookup.found, root, src, r);
  const finalRef = object ? objectRef(object) : ref;
  for (const f of r.findings) issue(f.severity, f.path, f.message, finalRef);
  if (object && !r.hasErrors) out.objects.push(object);
}

/** `kind: List` (what `kubectl get -o yaml` prints), also `ServiceList` and the like. */
function isList(raw: Record<string, unknown>): boolean {
  return (raw.kind === 'List' || String(raw.kind).endsWith('List')) && Array.isArray(raw.items);
}

function buildObject(raw: Record<string, unknown>, def: KindDef, root: FieldPath, src: DocSource, r: Reporter): ConfigObject | undefined {
  const own = new Set(def.topLevelSpec ?? []);
  for (const key of Object.keys(raw)) {
    if (!TOP_LEVEL_FIELDS.has(key) && !own.has(key)) r.warn([...root, key], `unknown field "${key}", ignored`);
  }
  const metadata = parseMetadata(raw.metadata, def, [...root, 'metadata'], r);
  if (!metadata) return undefined;
  const ctx: ValidationContext = { r, name: metadata.name, namespace: metadata.namespace, root };
  const spec = def.topLevelSpec
    ? def.spec(Object.fromEntries(def.topLevelSpec.filter((k) => raw[k] !== undefined).map((k) => [k, raw[k]])), ctx, root)
    : def.spec(raw.spec, ctx, [...root, 'spec']);
  if (spec === undefined) return undefined;
  const object = {
    kind: def.kind,
    apiVersion: raw.apiVersion as string,
    metadata,
    spec,
    origin: { file: src.file, doc: src.doc },
    ...(def.kind === 'Pod' ? { status: validatePodStatus(raw.status, ctx, [...root, 'status']) } : {}),
  };
  return object as ConfigObject;
}

/** `Kind/namespace/name` from raw metadata, for issues raised before metadata is validated. */
function provisionalRef(kind: string, metadata: unknown): string | undefined {
  if (!isPlainObject(metadata) || typeof metadata.name !== 'string') return undefined;
  const ns = typeof metadata.namespace === 'string' ? metadata.namespace : undefined;
  return objectRef({ kind, metadata: { name: metadata.name, namespace: ns } });
}
