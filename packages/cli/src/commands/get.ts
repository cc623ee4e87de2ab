import { parseArgs } from 'node:util';
import type { PodJson, PodListJson } from '@trellis/control';

const USAGE = `usage: trellis get pods [NAME...] [-n NAMESPACE | -A] [-o wide|json] [--api URL]

Lists the pods local mode runs (\`trellis up\`), with kubectl's columns: NAME READY STATUS RESTARTS AGE
(-o wide adds IP, NODE and LABELS). The API defaults to http://127.0.0.1:20001 (TRELLIS_API).`;

const DEFAULT_API = 'http://127.0.0.1:20001';
const TIMEOUT_MS = 5000;

/** `trellis get pods`: kubectl get pods against the Trellis API. */
export async function get(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        namespace: { type: 'string', short: 'n' },
        'all-namespaces': { type: 'boolean', short: 'A', default: false },
        output: { type: 'string', short: 'o' },
        api: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    err.write(`trellis get: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out.write(`${USAGE}\n`);
    return 0;
  }
  const [resource, ...names] = positionals;
  if (!resource || !['pods', 'pod', 'po'].includes(resource)) {
    err.write(`trellis get: ${resource ? `unknown resource type "${resource}"` : 'a resource type is required'}\n${USAGE}\n`);
    return 2;
  }
  const output = values.output ?? '';
  if (!['', 'wide', 'json'].includes(output)) {
    err.write(`trellis get: unknown output format "${output}" (wide or json)\n`);
    return 2;
  }
  const all = values['all-namespaces'];
  const namespace = values.namespace ?? 'default';
  const api = (values.api ?? process.env.TRELLIS_API ?? DEFAULT_API).replace(/\/+$/, '');
  const path = all ? '/api/v1/pods' : `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;

  const fetched = await fetchPods(api, path);
  if ('error' in fetched) {
    err.write(`trellis get: ${fetched.error}\n`);
    return 1;
  }
  const items = names.length ? fetched.items.filter((p) => names.includes(p.metadata.name)) : fetched.items;
  const missing = names.filter((n) => !items.some((p) => p.metadata.name === n));
  if (output === 'json') {
    out.write(`${JSON.stringify(names.length === 1 && items.length === 1 ? items[0] : { ...fetched, items }, null, 2)}\n`);
  } else if (items.length > 0) {
    out.write(podTable(items, { namespaceColumn: all, wide: output === 'wide', now: Date.now() }));
  } else if (names.length === 0) {
    err.write(all ? 'No resources found\n' : `No resources found in ${namespace} namespace.\n`);
  }
  for (const n of missing) err.write(`Error from server (NotFound): pods "${n}" not found\n`);
  return missing.length ? 1 : 0;
}

async function fetchPods(api: string, path: string): Promise<PodListJson | { error: string }> {
  let res: Response;
  try {
    res = await fetch(`${api}${path}`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e as Error).message;
    return { error: `cannot reach the Trellis API at ${api} (${why}); is \`trellis up\` running? (--api or TRELLIS_API set the address)` };
  }
  if (!res.ok) return { error: `${api}${path} answered HTTP ${res.status}` };
  const body = (await res.json().catch(() => undefined)) as PodListJson | undefined;
  if (!body || !Array.isArray(body.items)) return { error: `${api}${path} did not return a list of pods` };
  return body;
}

export interface PodTableOptions {
  namespaceColumn: boolean;
  wide: boolean;
  now: number;
  /** Extra columns after kubectl's (e.g. `trellis up`'s SIDECAR). */
  extra?: { header: string; value: (p: PodJson) => string }[];
}

/** kubectl's pod table: NAME READY STATUS RESTARTS AGE (+ IP NODE LABELS when wide). */
export function podTable(items: readonly PodJson[], opts: PodTableOptions): string {
  const header = ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'];
  if (opts.wide) header.push('IP', 'NODE', 'LABELS');
  if (opts.namespaceColumn) header.unshift('NAMESPACE');
  header.push(...(opts.extra ?? []).map((e) => e.header));
  const rows = items.map((p) => {
    const statuses = p.status.containerStatuses ?? [];
    const row = [
      p.metadata.name,
      `${statuses.filter((c) => c.ready).length}/${p.spec.containers.length}`,
      podStatus(p),
      restarts(p, opts.now),
      age(p.metadata.creationTimestamp, opts.now),
    ];
    if (opts.wide) row.push(p.status.podIP || '<none>', p.spec.nodeName || '<none>', labelList(p.metadata.labels));
    if (opts.namespaceColumn) row.unshift(p.metadata.namespace);
    row.push(...(opts.extra ?? []).map((e) => e.value(p)));
    return row;
  });
  return formatColumns([header, ...rows]);
}

/** kubectl's STATUS: the first container's waiting/terminated reason wins over the phase; Terminating over all. */
export function podStatus(p: PodJson): string {
  let reason = p.status.phase;
  let running = false;
  const statuses = p.status.containerStatuses ?? [];
  for (let i = statuses.length - 1; i >= 0; i--) {
    const s = statuses[i]!.state;
    if ('waiting' in s && s.waiting.reason) reason = s.waiting.reason;
    else if ('terminated' in s && s.terminated.reason) reason = s.terminated.reason;
    else if ('terminated' in s) reason = s.terminated.signal ? `Signal:${s.terminated.signal}` : `ExitCode:${s.terminated.exitCode}`;
    else if ('running' in s && statuses[i]!.ready) running = true;
  }
  if (reason === 'Completed' && running) reason = p.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
  return p.metadata.deletionTimestamp ? 'Terminating' : reason;
}

/** `2 (15s ago)`, as kubectl prints restarts since 1.22. */
function restarts(p: PodJson, now: number): string {
  const statuses = p.status.containerStatuses ?? [];
  const count = statuses.reduce((n, c) => n + c.restartCount, 0);
  const last = Math.max(
    ...statuses.map((c) => ('terminated' in c.lastState ? Date.parse(c.lastState.terminated.finishedAt) : NaN)).filter((t) => !Number.isNaN(t)),
  );
  return count > 0 && Number.isFinite(last) ? `${count} (${humanDuration(now - last)} ago)` : String(count);
}

function age(created: string | undefined, now: number): string {
  const t = created ? Date.parse(created) : NaN;
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
}

function labelList(labels: Record<string, string>): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${labels[k]}`).join(',') : '<none>';
}

/** Kubernetes' duration.HumanDuration: 45s, 3m20s, 25m, 5h10m, 20h, 3d4h, 30d, 2y5d. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

/** Left-aligned columns, three spaces apart (kubectl's tabwriter padding). */
export function formatColumns(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd() + '\n').join('');
}
