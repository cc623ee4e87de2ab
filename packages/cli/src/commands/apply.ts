import { parseArgs } from 'node:util';
import { formatIssue, parseConfigText, type ConfigIssue } from '@trellis/control';
import { ConfigFolder } from '../manifests/config-folder.js';
import { idKey, manifestObjects, readManifests, type ManifestObject, type ManifestText } from '../manifests/documents.js';
import { qualifiedSingular } from '../manifests/resources.js';
import { targetDir } from '../manifests/target-dir.js';

const USAGE = `usage: trellis apply -f FILE|DIR|- [-f ...] [-n NAMESPACE] [--dir DIR] [--dry-run] [--api URL]

Writes the objects of the manifests into the mesh's config folder, as kubectl apply writes them to the API
server: every object is validated first (nothing is written if one has an error), then each replaces the
document that already holds it (in whichever file) or gets a new file <kind>-<namespace>-<name>.yaml.
The folder is --dir, else the one of the running \`trellis up\` (asked of its API, --api or TRELLIS_API),
else the current directory. Kinds Trellis doesn't use (e.g. ServiceAccount) are skipped with a warning.`;

export interface ManifestCommandIo {
  err?: NodeJS.WritableStream;
  stdin?: NodeJS.ReadableStream;
}

export interface ManifestFlags {
  files: string[];
  namespace?: string;
  dir?: string;
  api?: string;
  dryRun: boolean;
  ignoreNotFound: boolean;
}

/** `trellis apply -f FILE`: kubectl apply against the mesh's folder. */
export async function apply(args: string[], out: NodeJS.WritableStream, io: ManifestCommandIo = {}): Promise<number> {
  const err = io.err ?? process.stderr;
  const flags = manifestFlags('apply', args, out, err, USAGE);
  if (typeof flags === 'number') return flags;

  const read = await readInputs('apply', flags, io, err);
  if (typeof read === 'number') return read;
  const issues = read.texts.flatMap((m) => parseConfigText(m.text, m.file).issues);
  reportIssues(issues, err);
  if (issues.some((i) => i.severity === 'error')) {
    err.write(`trellis apply: nothing written (${count(issues.filter((i) => i.severity === 'error').length, 'error')})\n`);
    return 1;
  }

  const dir = await targetDir(flags, err);
  if (typeof dir !== 'string') return fail('apply', dir.error, err);
  const folder = await ConfigFolder.open(dir);
  const suffix = flags.dryRun ? ' (dry run)' : '';
  for (const o of read.objects) {
    if (!o.handled) continue; // its "unsupported kind" warning is printed above
    const result = await folder.apply(o.id, o.raw, flags.dryRun);
    out.write(`${qualifiedSingular(o.id.kind, o.id.apiVersion)}/${o.id.name} ${result}${suffix}\n`);
  }
  return 0;
}

/** Parses the flags shared by apply and delete; a number is the exit code of a usage error or --help. */
export function manifestFlags(
  command: string,
  args: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  usage: string,
): ManifestFlags | number {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        filename: { type: 'string', short: 'f', multiple: true },
        namespace: { type: 'string', short: 'n' },
        dir: { type: 'string' },
        api: { type: 'string' },
        'dry-run': { type: 'string' },
        'ignore-not-found': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    err.write(`trellis ${command}: ${(e as Error).message}\n${usage}\n`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    out.write(`${usage}\n`);
    return 0;
  }
  const files = values.filename ?? [];
  if (files.length === 0) {
    err.write(`trellis ${command}: must specify one of -f and -k\n${usage}\n`);
    return 2;
  }
  const dryRun = values['dry-run'];
  if (dryRun !== undefined && !['client', 'server', 'none'].includes(dryRun)) {
    err.write(`trellis ${command}: --dry-run must be client, server or none\n`);
    return 2;
  }
  return {
    files,
    namespace: values.namespace,
    dir: values.dir ?? process.env.TRELLIS_CONFIG_DIR,
    api: values.api,
    dryRun: dryRun === 'client' || dryRun === 'server',
    ignoreNotFound: values['ignore-not-found'],
  };
}

/** The inputs' texts and objects (with -n applied), or an exit code after reporting why there are none. */
export async function readInputs(
  command: string,
  flags: ManifestFlags,
  io: ManifestCommandIo,
  err: NodeJS.WritableStream,
): Promise<{ texts: ManifestText[]; objects: ManifestObject[] } | number> {
  let texts: ManifestText[];
  try {
    texts = await readManifests(flags.files, io.stdin ?? process.stdin);
  } catch (e) {
    const code = (e as { code?: string }).code;
    return fail(command, code === 'ENOENT' ? `the path "${(e as { path?: string }).path}" does not exist` : (e as Error).message, err);
  }
  const objects: ManifestObject[] = [];
  const errors: string[] = [];
  for (const t of texts) {
    const got = manifestObjects(t);
    objects.push(...got.objects);
    errors.push(...got.errors);
  }
  for (const o of objects) {
    const ns = flags.namespace;
    if (!ns || o.id.namespace === '') continue;
    const written = (o.raw.metadata as { namespace?: unknown } | undefined)?.namespace;
    if (written && written !== ns) {
      errors.push(`the namespace from the provided object "${written}" does not match the namespace "${ns}". You must pass '--namespace=${written}' to perform this operation.`);
    }
    o.id = { ...o.id, namespace: ns };
    o.raw = { ...o.raw, metadata: { ...(o.raw.metadata as object), namespace: ns } };
  }
  if (errors.length) {
    for (const e of errors) err.write(`error: ${e}\n`);
    return 1;
  }
  if (objects.length === 0) return fail(command, 'no objects passed to ' + command, err);
  return { texts, objects: lastOfEach(objects) };
}

/** kubectl applies objects one by one, so a repeated one ends as its last version; keep first-seen order. */
function lastOfEach(objects: ManifestObject[]): ManifestObject[] {
  const last = new Map<string, ManifestObject>();
  for (const o of objects) last.set(idKey(o.id), o);
  return objects.filter((o) => last.get(idKey(o.id)) === o);
}

function reportIssues(issues: ConfigIssue[], err: NodeJS.WritableStream): void {
  for (const i of issues.filter((x) => x.severity === 'error')) err.write(`${formatIssue(i)}\n`);
  for (const i of issues.filter((x) => x.severity === 'warning')) err.write(`Warning: ${formatIssue(i).replace(/^warning: /, '')}\n`);
}

export function fail(command: string, message: string, err: NodeJS.WritableStream): number {
  err.write(`trellis ${command}: ${message}\n`);
  return 1;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
