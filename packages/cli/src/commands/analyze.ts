import { stat } from 'node:fs/promises';
import { analyzeObjects, formatIssue, loadConfigPaths, type ConfigIssue } from '@trellis/control';

const USAGE = `usage: trellis analyze PATH...

Validates Istio networking config (VirtualService, DestinationRule, Gateway, ServiceEntry, WorkloadEntry)
and Kubernetes Namespace, Service, Deployment and Pod manifests in the given files and folders
(folders recursively: .yaml, .yml, .json), then checks references between them.
Exit status: 0 no errors, 1 errors found, 2 usage error.
`;

/** `trellis analyze PATH...`: every issue, errors first, then a one-line summary. */
export async function analyze(args: string[], out: NodeJS.WritableStream): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    out.write(USAGE);
    return 0;
  }
  const option = args.find((a) => a.startsWith('-'));
  if (option !== undefined) return usageError(out, `unknown option ${option}`);
  if (args.length === 0) return usageError(out, 'no paths given');
  for (const path of args) {
    const exists = await stat(path).then(() => true, () => false);
    if (!exists) return usageError(out, `${path}: no such file or directory`);
  }

  const { objects, issues, files } = await loadConfigPaths(args);
  const all = [...issues, ...analyzeObjects(objects)];
  const errors = all.filter((i) => i.severity === 'error');
  const warnings = all.filter((i) => i.severity === 'warning');
  for (const issue of [...errors, ...warnings]) out.write(`${formatIssue(issue)}\n`);
  out.write(`${count(errors, 'error')}, ${count(warnings, 'warning')} in ${count(files, 'file')}\n`);
  return errors.length > 0 ? 1 : 0;
}

function usageError(out: NodeJS.WritableStream, message: string): number {
  out.write(`trellis analyze: ${message}\n\n${USAGE}`);
  return 2;
}

function count(items: readonly (ConfigIssue | string)[], noun: string): string {
  return `${items.length} ${noun}${items.length === 1 ? '' : 's'}`;
}
