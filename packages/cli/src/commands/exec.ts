import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { ExecContext } from '@trellis/control';
import { fail } from './apply.js';
import { parseCommandLine, usageError as sharedUsageError } from './command-line.js';
import { apiBase, getJson } from '../api/client.js';
import { POD_FLAGS, apiMessage, containerName, parsePodRef, resolvePod } from '../api/pod-target.js';
import { pilotAgent } from '../api/sidecar-admin.js';

const USAGE = `usage: trellis exec POD|deploy/NAME [-n NAMESPACE] [-c CONTAINER] [-i] [--api URL] -- COMMAND [ARGS...]

Runs COMMAND as if inside the pod's container, like kubectl exec: local mode's containers are processes on this
host, so the command runs here with the container's environment (POD_IP, HTTP_PROXY/TRELLIS_OUTBOUND to the
sidecar, its env and PATH) in its working directory; its output and exit code are passed through. -i passes
stdin. -c names the container (default: the pod's first); -c istio-proxy (or trellis-proxy) is the sidecar,
where \`pilot-agent request GET stats\` (or clusters, config_dump, ...) asks its admin API on POD_IP:15000. The
API defaults to http://127.0.0.1:20001 (--api or TRELLIS_API).`;

export interface ExecIo {
  err?: NodeJS.WritableStream;
  stdin?: NodeJS.ReadableStream;
}

interface ExecRequest {
  api: string;
  namespace: string;
  target: string;
  container?: string;
  stdin: boolean;
  argv: string[];
}

/** `trellis exec POD -- CMD`: kubectl exec against local mode's pods. */
export async function exec(args: string[], out: NodeJS.WritableStream, io: ExecIo = {}): Promise<number> {
  const err = io.err ?? process.stderr;
  const req = parseExecArgs(args, out, err);
  if (typeof req === 'number') return req;

  const ref = parsePodRef(req.target);
  if (typeof ref === 'string') return usageError(ref, err);
  const resolved = await resolvePod(req.api, req.namespace, ref);
  if ('error' in resolved) return fail('exec', resolved.error, err);
  if (resolved.note) err.write(`${resolved.note}\n`);

  const query = req.container ? `?container=${encodeURIComponent(req.container)}` : '';
  const path = `/api/v1/namespaces/${encodeURIComponent(req.namespace)}/pods/${encodeURIComponent(resolved.pod)}/exec${query}`;
  const got = await getJson<ExecContext>(req.api, path, 'the Trellis API');
  if ('error' in got) return fail('exec', apiMessage(got), err);
  const ctx = got.value;
  if (!ctx.running) return fail('exec', `container ${ctx.container} in pod ${ctx.pod} is not running; see trellis get pods, trellis logs`, err);

  const [command, ...rest] = req.argv as [string, ...string[]];
  const code = ctx.sidecar && command === 'pilot-agent' ? await pilotAgent(rest, ctx, out, err) : await run(ctx, req.argv, req.stdin ? (io.stdin ?? process.stdin) : undefined, out, err);
  if (code !== 0) err.write(`command terminated with exit code ${code}\n`);
  return code;
}

/** Flags before `--`, the command after it; a number is the exit code of a usage error or --help. */
function parseExecArgs(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): ExecRequest | number {
  const dash = args.indexOf('--');
  const parsed = parseCommandLine(
    'exec',
    USAGE,
    { args: dash < 0 ? args : args.slice(0, dash), allowPositionals: true, options: { ...POD_FLAGS, stdin: { type: 'boolean', short: 'i', default: false } } },
    out,
    err,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length === 0) return usageError('a pod is required (POD or deploy/NAME)', err);
  if (dash < 0) return usageError(`the command goes after --: trellis exec ${positionals[0]} -- ${positionals.slice(1).join(' ') || 'COMMAND [ARGS...]'}`, err);
  if (positionals.length > 1) return usageError(`one pod only, then -- COMMAND (got ${positionals.join(' ')})`, err);
  const argv = args.slice(dash + 1);
  if (argv.length === 0) return usageError('a command is required after --', err);
  return {
    api: apiBase(values.api),
    namespace: values.namespace ?? 'default',
    target: positionals[0]!,
    container: containerName(values.container),
    stdin: values.stdin,
    argv,
  };
}

/**
 * Spawns the command with the container's env and cwd; `node` is the Node running Trellis, as for the container
 * itself. Resolves with its exit code (128 + signal when a signal ended it; 126/127 when it couldn't start, as a
 * shell reports).
 */
function run(ctx: ExecContext, argv: string[], stdin: NodeJS.ReadableStream | undefined, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const [command, ...args] = argv as [string, ...string[]];
  const file = command === 'node' ? process.execPath : command;
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: ctx.cwd, env: ctx.env, stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    if (stdin && child.stdin) stdin.pipe(child.stdin);
    child.stdout!.pipe(out, { end: false });
    child.stderr!.pipe(err, { end: false });
    child.on('error', (e: NodeJS.ErrnoException) => {
      const notFound = e.code === 'ENOENT';
      err.write(`trellis exec: "${command}": ${notFound ? 'executable file not found in $PATH' : e.message} (container ${ctx.container}, working directory ${ctx.cwd})\n`);
      resolve(notFound ? 127 : 126);
    });
    child.on('close', (code, signal) => {
      if (stdin && child.stdin) {
        stdin.unpipe(child.stdin);
        // A paused stdin no longer holds the event loop open (process.stdin would, once read from).
        stdin.pause();
      }
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}

function usageError(message: string, err: NodeJS.WritableStream): number {
  return sharedUsageError('exec', USAGE, message, err);
}
