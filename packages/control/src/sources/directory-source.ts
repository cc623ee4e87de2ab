import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { MeshConfig } from '../model/mesh-config.js';
import type { ConfigIssue } from '../model/issues.js';
import { objectRef, type ConfigObject } from '../model/objects.js';

/** Turns one file's text into objects and issues (the model's parser). */
export type ParseFile = (text: string, file: string) => { objects: ConfigObject[]; issues: ConfigIssue[] };
/** Cross-object checks over the assembled set; errors drop the object they name (e.g. a duplicate). */
export type AnalyzeObjects = (objects: readonly ConfigObject[]) => ConfigIssue[];

/** Built-in objects added to the folder's, given what the folder holds. */
export type DefaultObjects = (objects: readonly ConfigObject[]) => ConfigObject[];

/** What the source knows about one file. */
export interface FileStatus {
  file: string;
  /** `ok`: current content is in use; `rejected`: it has errors and its last good version (if any) is served. */
  state: 'ok' | 'rejected';
  objects: number;
  issues: ConfigIssue[];
  servingLastGood: boolean;
}

interface FileState {
  mtimeMs: number;
  size: number;
  lastGood: ConfigObject[] | undefined;
  issues: ConfigIssue[];
  rejected: boolean;
}

export interface DirectorySourceOptions {
  parse: ParseFile;
  analyze?: AnalyzeObjects;
  /** Quiet time after the last file event before reloading (editors write in bursts). */
  debounceMs?: number;
  log?: (msg: string) => void;
}

const CONFIG_FILE = /\.(ya?ml|json)$/i;
/**
 * The folder is also re-checked this often: Node 20's recursive watcher on Linux loses a file once it has been
 * replaced by a rename (how vim and most editors save), so events alone would miss every later save. A check
 * only stats the files; nothing is re-read or pushed unless one changed.
 */
const POLL_MS = 750;

/**
 * Loads a folder of YAML recursively and keeps it loaded: file events are debounced, changed files re-parsed,
 * and a new MeshConfig swapped in whole. A file with errors is rejected on its own; the rest of the folder —
 * and that file's last good version — keep serving.
 */
export class DirectorySource extends EventEmitter<{ change: [MeshConfig] }> {
  private readonly files = new Map<string, FileState>();
  private config = MeshConfig.EMPTY;
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private defaults: DefaultObjects | undefined;

  constructor(
    readonly dir: string,
    private readonly opts: DirectorySourceOptions,
  ) {
    super();
  }

  /** Loads the folder once, as it is, then watches it. */
  async start(): Promise<MeshConfig> {
    await this.reload(false);
    this.watcher = watch(this.dir, { recursive: true }, () => this.scheduleReload());
    this.watcher.on('error', (err) => this.opts.log?.(`watch ${this.dir}: ${err.message}`));
    this.poller = setInterval(() => this.scheduleReload(), POLL_MS).unref();
    return this.config;
  }

  current(): MeshConfig {
    return this.config;
  }

  status(): FileStatus[] {
    return [...this.files.entries()].map(([file, s]) => ({
      file,
      state: s.rejected ? 'rejected' : 'ok',
      objects: s.lastGood?.length ?? 0,
      issues: s.issues,
      servingLastGood: s.rejected && s.lastGood !== undefined,
    }));
  }

  /**
   * Objects the folder gets by default (local mode's ingress gateway): computed from the folder's objects on
   * every change, so the folder can override them; published at once. Undefined removes them.
   */
  setDefaults(defaults: DefaultObjects | undefined): void {
    this.defaults = defaults;
    this.publish();
  }

  close(): void {
    clearTimeout(this.timer);
    clearInterval(this.poller);
    this.watcher?.close();
  }

  private get quietMs(): number {
    return this.opts.debounceMs ?? 100;
  }

  private scheduleReload(delayMs = this.quietMs): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      // Reloads run one at a time, in order; a burst during a reload gets one more pass after it.
      this.reloading = this.reloading.then(() => this.reload()).catch((err) => this.opts.log?.(`reload: ${err}`));
    }, delayMs);
  }

  /**
   * Re-reads files whose size or mtime changed, forgets deleted ones, and swaps in a new config if anything did.
   * With `settle`, a file written less than the debounce ago is left for a later pass: a save truncates before it
   * writes, and the poller may look in between, when an empty file would seem to delete the file's objects.
   */
  async reload(settle = true): Promise<void> {
    const present = await listConfigFiles(this.dir);
    let changed = false;
    let retryInMs = 0;
    for (const file of this.files.keys()) {
      if (!present.has(file)) {
        this.files.delete(file);
        changed = true;
      }
    }
    for (const [file, st] of present) {
      const prev = this.files.get(file);
      if (prev && prev.mtimeMs === st.mtimeMs && prev.size === st.size) continue;
      const age = Date.now() - st.mtimeMs;
      if (settle && age >= 0 && age < this.quietMs) {
        retryInMs = Math.max(retryInMs, Math.ceil(this.quietMs - age));
        continue;
      }
      await this.loadFile(file, st, prev);
      changed = true;
    }
    if (changed) this.publish();
    if (retryInMs > 0) this.scheduleReload(retryInMs);
  }

  private async loadFile(file: string, st: { mtimeMs: number; size: number }, prev: FileState | undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      return; // vanished between listing and reading: the next event will tell
    }
    const display = displayPath(this.dir, file);
    const { objects, issues } = this.opts.parse(text, display);
    const rejected = issues.some((i) => i.severity === 'error');
    const lastGood = rejected ? prev?.lastGood : objects;
    this.files.set(file, { ...st, lastGood, issues, rejected });
    for (const i of issues.filter((i) => i.severity === 'error')) {
      this.opts.log?.(`rejected ${display}: ${i.object ?? ''} ${i.path ?? ''}: ${i.message}`);
    }
    if (rejected && lastGood) this.opts.log?.(`serving the last good version of ${display}`);
  }

  private publish(): void {
    const files = [...this.files.keys()].sort();
    const objects = files.flatMap((f) => this.files.get(f)!.lastGood ?? []);
    const crossIssues = this.opts.analyze?.(objects) ?? [];
    const dropped = new Set(
      crossIssues.filter((i) => i.severity === 'error').map((i) => `${i.file}#${i.doc}#${i.object}`),
    );
    const kept = objects.filter((o) => !dropped.has(`${o.origin.file}#${o.origin.doc}#${objectRef(o)}`));
    const fileIssues = files.flatMap((f) => this.files.get(f)!.issues);
    this.config = new MeshConfig([...kept, ...(this.defaults?.(kept) ?? [])], [...fileIssues, ...crossIssues]);
    this.emit('change', this.config);
  }
}

/** The path as the user would name it: the folder they gave joined with the file's place in it. */
function displayPath(dir: string, file: string): string {
  return join(dir, relative(dir, file));
}

async function listConfigFiles(dir: string): Promise<Map<string, { mtimeMs: number; size: number }>> {
  const out = new Map<string, { mtimeMs: number; size: number }>();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    if (!e.isFile() || !CONFIG_FILE.test(e.name) || e.name.startsWith('.')) continue;
    const file = join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
    try {
      const s = await stat(file);
      out.set(file, { mtimeMs: s.mtimeMs, size: s.size });
    } catch {
      // deleted while listing
    }
  }
  return out;
}
