import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import type { PodJson, PodListJson } from '@trellis/control';
import { apiBase, controlBase, getJson } from '../api/client.js';
import { hasSidecar, sidecarSync, type SyncEntry } from '../api/sidecar-sync.js';
import { resourceByName, type ResourceName } from '../manifests/resources.js';

const USAGE = `usage: trellis get RESOURCE [NAME...] [-n NAMESPACE | -A] [-o wide|json|yaml] [--api URL] [--control URL]

RESOURCE: pods (po), services (svc), virtualservices (vs), destinationrules (dr), gateways (gw),
serviceentries (se). Pods are the ones local mode runs (\`trellis up\`), with kubectl's columns
NAME READY STATUS RESTARTS AGE; -o wide adds IP, NODE, SIDECAR (its xDS sync state, from the control plane's
/debug/syncz: --control or TRELLIS_CONTROL_DEBUG, default http://127.0.0.1:15014) and LABELS. The others are
the running mesh's config. The API defaults to http://127.0.0.1:20001 (--api or TRELLIS_API).`;

/** A Kubernetes-shaped object as the API lists it; the CLI reads only what it prints. */
interface ObjectJson {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; creationTimestamp?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
}

interface ListJson<T> {
  apiVersion: string;
  kind: string;
  items: T[];
}

interface Request {
  resource: ResourceName;
  names: string[];
  all: boolean;
  namespace: string;
  output: '' | 'wide' | 'json' | 'yaml';
  api: string;
  control: string;
}

/** `trellis get RESOURCE`: kubectl get against the Trellis API. */
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
        control: { type: 'string' },
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
  const [word, ...names] = positionals;
  const resource = word ? resourceByName(word) : undefined;
  if (!resource || resource.kind === 'Deployment' || resource.kind === 'Namespace' || resource.kind === 'WorkloadEntry') {
    err.write(`trellis get: ${word ? `the server doesn't have a resource type "${word}"` : 'a resource type is required'}\n${USAGE}\n`);
    return 2;
  }
  const output = values.output ?? '';
  if (output !== '' && output !== 'wide' && output !== 'json' && output !== 'yaml') {
    err.write(`trellis get: unknown output format "${output}" (wide, json or yaml)\n`);
    return 2;
  }
  const req: Request = {
    resource,
    names,
    all: values['all-namespaces'],
    namespace: values.namespace ?? 'default',
    output,
    api: apiBase(values.api),
    control: controlBase(values.control),
  };

  const fetched = resource.kind === 'Pod' ? await fetchPods(req) : await fetchConfig(req);
  if ('error' in fetched) {
    err.write(`trellis get: ${fetched.error}\n`);
    return 1;
  }
  const items = names.length ? fetched.items.filter((p) => names.includes(p.metadata.name)) : fetched.items;
  const missing = names.filter((n) => !items.some((p) => p.metadata.name === n));
  if (output === 'json' || output === 'yaml') {
    const doc = names.length === 1 && items.length === 1 ? items[0] : { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } };
    if (missing.length === 0 || items.length > 0) out.write(output === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc, { lineWidth: 0 }));
  } else if (items.length > 0) {
    const now = Date.now();
    out.write(
      resource.kind === 'Pod'
        ? podTable(items as PodJson[], {
            namespaceColumn: req.all,
            wide: output === 'wide',
            now,
            ...(output === 'wide' ? { sync: (p: PodJson) => sidecarSync(p, fetched.proxies) } : {}),
          })
        : configTable(resource.kind, items, { namespaceColumn: req.all, wide: output === 'wide', now }),
    );
  } else if (names.length === 0) {
    err.write(req.all ? 'No resources found\n' : `No resources found in ${req.namespace} namespace.\n`);
  }
  for (const n of missing) err.write(`Error from server (NotFound): ${qualified(resource)} "${n}" not found\n`);
  return missing.length ? 1 : 0;
}

const qualified = (r: ResourceName): string => (r.group && r.group !== 'apps' ? `${r.plural}.${r.group}` : r.plural);

type Listed = { items: ObjectJson[]; proxies?: SyncEntry[] } | { error: string };

async function fetchPods(req: Request): Promise<Listed> {
  const path = req.all ? '/api/v1/pods' : `/api/v1/namespaces/${encodeURIComponent(req.namespace)}/pods`;
  const got = await getJson<PodListJson>(req.api, path, 'the Trellis API');
  if ('error' in got) return { error: apiError(got) };
  if (!Array.isArray(got.value.items)) return { error: `${req.api}${path} did not return a list of pods` };
  const items = got.value.items;
  if (req.output !== 'wide' || !items.some(hasSidecar)) return { items };
  // Sync state is the control plane's debug port's; without it the column says <unknown>, the rest still prints.
  const sync = await getJson<SyncEntry[]>(req.control, '/debug/syncz', 'the control plane');
  return { items, proxies: 'value' in sync && Array.isArray(sync.value) ? sync.value : undefined };
}

async function fetchConfig(req: Request): Promise<Listed> {
  const query = req.all ? '' : `?namespace=${encodeURIComponent(req.namespace)}`;
  const path = `/api/v1/config/${req.resource.plural}${query}`;
  const got = await getJson<ListJson<ObjectJson>>(req.api, path, 'the Trellis API');
  if ('error' in got) return { error: apiError(got) };
  if (!Array.isArray(got.value.items)) return { error: `${req.api}${path} did not return a list` };
  return { items: got.value.items };
}

function apiError(got: { error: string; unreachable?: boolean }): string {
  return got.unreachable ? `${got.error}; is \`trellis up\` running? (--api or TRELLIS_API set the address)` : got.error;
}

interface TableOptions {
  namespaceColumn: boolean;
  wide: boolean;
  now: number;
}

type Column = [header: string, value: (o: ObjectJson, spec: Record<string, any>) => string];

const jsonList = (v: unknown): string => (Array.isArray(v) && v.length ? JSON.stringify(v) : '');

/** The columns of Istio's CRDs (additionalPrinterColumns) and of kubectl for Services. */
const CONFIG_COLUMNS: Record<string, { columns: Column[]; wide?: Column[] }> = {
  VirtualService: { columns: [['GATEWAYS', (_o, s) => jsonList(s.gateways)], ['HOSTS', (_o, s) => jsonList(s.hosts)]] },
  DestinationRule: { columns: [['HOST', (_o, s) => String(s.host ?? '')]] },
  Gateway: { columns: [] },
  ServiceEntry: {
    columns: [
      ['HOSTS', (_o, s) => jsonList(s.hosts)],
      ['LOCATION', (_o, s) => String(s.location ?? '')],
      ['RESOLUTION', (_o, s) => String(s.resolution ?? '')],
    ],
  },
  Service: {
    columns: [
      ['TYPE', (_o, s) => String(s.type ?? 'ClusterIP')],
      ['CLUSTER-IP', (_o, s) => String(s.clusterIP ?? '<none>')],
      ['EXTERNAL-IP', () => '<none>'],
      ['PORT(S)', (_o, s) => servicePorts(s.ports)],
    ],
    wide: [['SELECTOR', (_o, s) => labelList(s.selector)]],
  },
};

/** A config kind's table: [NAMESPACE] NAME, the kind's columns, AGE (then -o wide's). */
export function configTable(kind: string, items: readonly ObjectJson[], opts: TableOptions): string {
  const def = CONFIG_COLUMNS[kind] ?? { columns: [] };
  const columns: Column[] = [...def.columns, ['AGE', (o) => age(o.metadata.creationTimestamp, opts.now)], ...(opts.wide ? def.wide ?? [] : [])];
  const header = [...(opts.namespaceColumn ? ['NAMESPACE'] : []), 'NAME', ...columns.map((c) => c[0])];
  const rows = items.map((o) => [
    ...(opts.namespaceColumn ? [o.metadata.namespace ?? ''] : []),
    o.metadata.name,
    ...columns.map(([, value]) => value(o, o.spec ?? {})),
  ]);
  return formatColumns([header, ...rows]);
}

/** kubectl's PORT(S): `9080/TCP`, `80:31380/TCP` with a nodePort, comma-separated. */
function servicePorts(ports: unknown): string {
  if (!Array.isArray(ports) || ports.length === 0) return '<none>';
  return ports.map((p: { port: number; nodePort?: number; protocol?: string }) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

export interface PodTableOptions {
  namespaceColumn: boolean;
  wide: boolean;
  now: number;
  /** Extra columns after kubectl's (e.g. `trellis up`'s SIDECAR). */
  extra?: { header: string; value: (p: PodJson) => string }[];
  /** Leaves AGE out (`trellis up`'s live table). */
  noAge?: boolean;
  /** With wide: the SIDECAR column (the pod's xDS sync state) between NODE and LABELS. */
  sync?: (p: PodJson) => string;
}

/** kubectl's pod table: NAME READY STATUS RESTARTS AGE (+ IP NODE [SIDECAR] LABELS when wide). */
export function podTable(items: readonly PodJson[], opts: PodTableOptions): string {
  const header = ['NAME', 'READY', 'STATUS', 'RESTARTS', ...(opts.noAge ? [] : ['AGE'])];
  if (opts.wide) header.push('IP', 'NODE', ...(opts.sync ? ['SIDECAR'] : []), 'LABELS');
  if (opts.namespaceColumn) header.unshift('NAMESPACE');
  header.push(...(opts.extra ?? []).map((e) => e.header));
  const rows = items.map((p) => {
    const statuses = p.status.containerStatuses ?? [];
    const row = [
      p.metadata.name,
      `${statuses.filter((c) => c.ready).length}/${p.spec.containers.length}`,
      podStatus(p),
      restarts(p, opts.now),
      ...(opts.noAge ? [] : [age(p.metadata.creationTimestamp, opts.now)]),
    ];
    if (opts.wide) row.push(p.status.podIP || '<none>', p.spec.nodeName || '<none>', ...(opts.sync ? [opts.sync(p)] : []), labelList(p.metadata.labels));
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

function labelList(labels: Record<string, string> | undefined): string {
  const all = labels ?? {};
  const keys = Object.keys(all).sort();
  return keys.length ? keys.map((k) => `${k}=${all[k]}`).join(',') : '<none>';
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
