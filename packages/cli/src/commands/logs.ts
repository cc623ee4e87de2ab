import { fail } from './apply.js';
import { parseCommandLine, usageError as sharedUsageError } from './command-line.js';
import { apiBase, getText } from '../api/client.js';
import { POD_FLAGS, apiMessage, containerName, parsePodRef, resolvePod } from '../api/pod-target.js';

const USAGE = `usage: trellis logs POD|deploy/NAME [-n NAMESPACE] [-c CONTAINER] [--tail N] [--api URL]

Prints a container's output as local mode kept it (its last 1000 lines, across restarts), like kubectl logs.
-c names the container (default: the pod's first; istio-proxy or trellis-proxy is the sidecar), --tail the
number of last lines (-1: all). The API defaults to http://127.0.0.1:20001 (--api or TRELLIS_API).`;

/** `trellis logs POD`: kubectl logs against local mode's pods. */
export async function logs(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const parsed = parseCommandLine('logs', USAGE, { args, allowPositionals: true, options: { ...POD_FLAGS, tail: { type: 'string', default: '-1' } } }, out, err);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usageError(positionals.length ? `one pod only (got ${positionals.join(' ')})` : 'a pod is required (POD or deploy/NAME)', err);
  if (!/^-?\d+$/.test(values.tail) || Number(values.tail) < -1) return usageError(`--tail must be a number of lines, or -1 for all (got ${values.tail})`, err);
  const ref = parsePodRef(positionals[0]!);
  if (typeof ref === 'string') return usageError(ref, err);

  const api = apiBase(values.api);
  const namespace = values.namespace ?? 'default';
  const resolved = await resolvePod(api, namespace, ref);
  if ('error' in resolved) return fail('logs', resolved.error, err);
  if (resolved.note) err.write(`${resolved.note}\n`);

  const query = new URLSearchParams();
  const container = containerName(values.container);
  if (container) query.set('container', container);
  if (values.tail !== '-1') query.set('tailLines', values.tail);
  const qs = query.size ? `?${query}` : '';
  const got = await getText(api, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(resolved.pod)}/log${qs}`, 'the Trellis API');
  if ('error' in got) return fail('logs', apiMessage(got), err);
  out.write(got.value);
  return 0;
}

function usageError(message: string, err: NodeJS.WritableStream): number {
  return sharedUsageError('logs', USAGE, message, err);
}
