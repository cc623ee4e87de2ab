/** Reading config from files and folders (recursively: .yaml, .yml, .json). */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigIssue } from './issues.js';
import type { ConfigObject } from './objects.js';
import { parseConfigText } from './parse.js';

const CONFIG_FILE = /\.(ya?ml|json)$/i;

export interface LoadResult {
  objects: ConfigObject[];
  issues: ConfigIssue[];
  /** The files read, in order. */
  files: string[];
}

/**
 * Parses every config file under the paths. A path named directly is read whatever its extension;
 * inside folders only .yaml/.yml/.json count, and names starting with "." are skipped (editor files,
 * .git). A missing or unreadable path is an error issue. Cross-object checks are analyzeObjects' job.
 */
export async function loadConfigPaths(paths: readonly string[]): Promise<LoadResult> {
  const result: LoadResult = { objects: [], issues: [], files: [] };
  for (const p of paths) {
    let files: string[];
    try {
      files = (await stat(p)).isDirectory() ? await configFilesUnder(p) : [p];
    } catch (e) {
      result.issues.push({ severity: 'error', file: p, doc: 0, message: `cannot read: ${(e as Error).message}` });
      continue;
    }
    for (const file of files) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        result.issues.push({ severity: 'error', file, doc: 0, message: `cannot read: ${(e as Error).message}` });
        continue;
      }
      const { objects, issues } = parseConfigText(text, file);
      result.files.push(file);
      result.objects.push(...objects);
      result.issues.push(...issues);
    }
  }
  return result;
}

/** Config files under a folder, sorted so results don't depend on the file system's order. */
async function configFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    const isDir = e.isDirectory() || (e.isSymbolicLink() && (await stat(path).then((s) => s.isDirectory(), () => false)));
    if (isDir) out.push(...(await configFilesUnder(path)));
    else if (CONFIG_FILE.test(e.name)) out.push(path);
  }
  return out;
}
