import { readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments, stringify, type Document } from 'yaml';
import { documentObjects, idKey, isObject, objectId, type ObjectId } from './documents.js';

/** Where an object lives in the folder: a file, a document of it, and the item when that document is a List. */
interface Location {
  file: string;
  doc: number;
  item?: number;
  value: Record<string, unknown>;
}

interface FolderFile {
  text: string;
  docs: Document.Parsed[];
}

export type ApplyResult = 'created' | 'configured' | 'unchanged';

const CONFIG_FILE = /\.(ya?ml|json)$/i;

/**
 * The mesh's config folder as `trellis apply`/`delete` edit it, with the file rules of the control plane's
 * folder source (recursive; .yaml/.yml/.json; names starting with "." skipped). An object that some file
 * already holds is rewritten in that document, in place: the file's other documents, comments and formatting
 * stay as the user wrote them. A new object gets a file of its own, `<kind>-<namespace>-<name>.yaml`.
 */
export class ConfigFolder {
  private readonly files = new Map<string, FolderFile>();
  private readonly index = new Map<string, Location>();

  private constructor(readonly dir: string) {}

  static async open(dir: string): Promise<ConfigFolder> {
    const folder = new ConfigFolder(dir);
    for (const file of await configFiles(dir)) {
      // A file that vanished since the listing (an editor's swap file, another tool's temp folder) holds nothing.
      const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
      if (text !== undefined) folder.load(file, text);
    }
    return folder;
  }

  /** The file holding an object, if any. */
  fileOf(id: ObjectId): string | undefined {
    return this.index.get(idKey(id))?.file;
  }

  /** Writes the object where it lives, or into a new file; nothing is written when it is unchanged. */
  async apply(id: ObjectId, raw: Record<string, unknown>, dryRun = false): Promise<ApplyResult> {
    const at = this.index.get(idKey(id));
    if (!at) {
      const file = this.newFileName(id);
      if (!dryRun) await this.write(file, stringify(raw, { lineWidth: 0 }));
      return 'created';
    }
    if (canonical(at.value) === canonical(raw)) return 'unchanged';
    if (!dryRun) await this.write(at.file, this.replaced(at, raw));
    return 'configured';
  }

  /** Removes the object from the file holding it (the file too when nothing else is left); false when no file does. */
  async delete(id: ObjectId, dryRun = false): Promise<boolean> {
    const at = this.index.get(idKey(id));
    if (!at) return false;
    if (dryRun) return true;
    const text = this.replaced(at, undefined);
    const left = parseAllDocuments(text).some((d) => d.contents !== null && d.toJS() !== null);
    if (left) await this.write(at.file, text);
    else {
      await unlink(at.file);
      this.forget(at.file);
    }
    return true;
  }

  private load(file: string, text: string): void {
    this.forget(file);
    const docs = parseAllDocuments(text, { merge: true });
    this.files.set(file, { text, docs });
    docs.forEach((doc, i) => {
      if (doc.errors.length) return;
      for (const { value, item } of documentObjects(doc)) {
        const id = objectId(value);
        const key = typeof id === 'string' ? undefined : idKey(id);
        // The first holder wins, as in the control plane (files in sorted order): a later duplicate is an error there.
        if (key && !this.index.has(key)) this.index.set(key, { file, doc: i, item, value });
      }
    });
  }

  private forget(file: string): void {
    this.files.delete(file);
    for (const [key, at] of this.index) if (at.file === file) this.index.delete(key);
  }

  /** The file's text with the object's document (or List item) replaced by `raw`, or removed when `raw` is undefined. */
  private replaced(at: Location, raw: Record<string, unknown> | undefined): string {
    const { text, docs } = this.files.get(at.file)!;
    const doc = docs[at.doc]!;
    let value: unknown = raw;
    if (at.item !== undefined) {
      const list = doc.toJS({ maxAliasCount: 1000 }) as Record<string, unknown> & { items: unknown[] };
      const items = [...list.items];
      if (raw) items[at.item] = raw;
      else items.splice(at.item, 1);
      value = items.length ? { ...list, items } : undefined;
    }
    if (value === undefined) {
      // The whole document goes: from its start (its `---`) to the next document's.
      const end = docs[at.doc + 1]?.range[0] ?? text.length;
      return text.slice(0, doc.range[0]) + text.slice(end);
    }
    const [start, end] = doc.contents!.range;
    let body = /\.json$/i.test(at.file) ? `${JSON.stringify(value, null, 2)}\n` : stringify(value, { lineWidth: 0 });
    if (!text.slice(start, end).endsWith('\n')) body = body.replace(/\n$/, '');
    return text.slice(0, start) + body + text.slice(end);
  }

  private newFileName(id: ObjectId): string {
    const base = [id.kind.toLowerCase(), id.namespace, id.name].filter(Boolean).join('-');
    let file = join(this.dir, `${base}.yaml`);
    for (let n = 2; this.files.has(file); n++) file = join(this.dir, `${base}-${n}.yaml`);
    return file;
  }

  /**
   * Writes in place, not to a temporary file renamed over it: Node 20's recursive fs.watch on Linux stops
   * reporting a file once it has been replaced by a rename, so the control plane would miss the next change. The
   * control plane reads a file only once it has been quiet for its debounce, so it never sees the truncated file.
   */
  private async write(file: string, text: string): Promise<void> {
    await writeFile(file, text);
    this.load(file, text);
  }
}

/** A value's JSON with keys sorted: equal for equal objects whatever their key order. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    isObject(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]])) : x,
  );
}

async function configFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && CONFIG_FILE.test(e.name) && !e.name.startsWith('.'))
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .sort();
}
