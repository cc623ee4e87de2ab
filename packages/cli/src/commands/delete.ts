import { ConfigFolder } from '../manifests/config-folder.js';
import { qualifiedPlural, qualifiedSingular } from '../manifests/resources.js';
import { targetDir } from '../manifests/target-dir.js';
import { fail, manifestFlags, readInputs, type ManifestCommandIo } from './apply.js';

const USAGE = `usage: trellis delete -f FILE|DIR|- [-f ...] [-n NAMESPACE] [--dir DIR] [--ignore-not-found] [--dry-run] [--api URL]

Removes the objects named in the manifests (by kind, namespace and name) from the mesh's config folder,
from whichever file holds them; a file left with no objects is removed. The folder is found as for apply.`;

/** `trellis delete -f FILE`: kubectl delete against the mesh's folder. */
export async function del(args: string[], out: NodeJS.WritableStream, io: ManifestCommandIo = {}): Promise<number> {
  const err = io.err ?? process.stderr;
  const flags = manifestFlags('delete', args, out, err, USAGE);
  if (typeof flags === 'number') return flags;
  const read = await readInputs('delete', flags, io, err);
  if (typeof read === 'number') return read;
  const dir = await targetDir(flags, err);
  if (typeof dir !== 'string') return fail('delete', dir.error, err);

  const folder = await ConfigFolder.open(dir);
  const suffix = flags.dryRun ? ' (dry run)' : '';
  let missing = 0;
  for (const o of read.objects) {
    if (await folder.delete(o.id, flags.dryRun)) {
      out.write(`${qualifiedSingular(o.id.kind, o.id.apiVersion)} "${o.id.name}" deleted${suffix}\n`);
    } else if (!flags.ignoreNotFound) {
      missing++;
      err.write(`Error from server (NotFound): error when deleting "${o.file}": ${qualifiedPlural(o.id.kind, o.id.apiVersion)} "${o.id.name}" not found\n`);
    }
  }
  return missing ? 1 : 0;
}
