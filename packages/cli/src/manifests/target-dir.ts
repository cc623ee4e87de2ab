import { statSync } from 'node:fs';
import { apiBase, runningConfigDir } from '../api/client.js';

/**
 * The folder `apply`/`delete` edit: --dir, else the folder of the running mesh (asked of its API), else — when
 * nothing listens at the API's address — the current directory. Says on `err` which one it picked when it wasn't named, so a write never lands somewhere
 * unexpected silently.
 */
export async function targetDir(flags: { dir?: string; api?: string }, err: NodeJS.WritableStream): Promise<string | { error: string }> {
  let dir = flags.dir;
  if (dir === undefined) {
    const api = apiBase(flags.api);
    const running = await runningConfigDir(api);
    if (typeof running === 'object') return { error: `${running.error} (--dir names the mesh's folder)` };
    dir = running;
    if (dir === undefined) {
      dir = process.cwd();
      err.write(`no running mesh answered at ${api}: using the current directory ${dir} (--dir names the mesh's folder)\n`);
    }
  }
  try {
    if (!statSync(dir).isDirectory()) return { error: `${dir} is not a folder` };
  } catch {
    return { error: `${dir}: no such folder` };
  }
  return dir;
}
