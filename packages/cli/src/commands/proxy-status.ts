import { parseArgs } from 'node:util';

const USAGE = `usage: trellis proxy-status [NAME] [--control http://127.0.0.1:15014] [--json]

Shows, for every proxy connected to the control plane, whether it has accepted the latest
CDS/LDS/EDS/RDS config: SYNCED (ACKed), STALE (sent, not ACKed yet, or NACKed), NOT SENT.
NAME filters by pod.namespace or node id. TRELLIS_CONTROL_DEBUG sets the default --control.`;

const DEFAULT_CONTROL = 'http://127.0.0.1:15014';
const TIMEOUT_MS = 5000;

/**
 * The parts of the control plane's /debug/syncz JSON this command reads. It's a wire format: the
 * CLI takes what it needs and tolerates extra fields.
 */
interface SyncTypeJson {
  state: string;
  sentVersion?: string;
  sentAt?: string;
  lastNack?: { version: string; message: string; at: string; nonce: string };
  sentNonce?: string;
}
interface SyncProxyJson {
  id: string;
  identity?: { namespace?: string; podName?: string; type?: string };
  connectedAt?: string;
  types: Partial<Record<'cluster' | 'listener' | 'endpoint' | 'route', SyncTypeJson>>;
}

/** istioctl's column order. */
const COLUMNS = [
  ['CDS', 'cluster'],
  ['LDS', 'listener'],
  ['EDS', 'endpoint'],
  ['RDS', 'route'],
] as const;

/** `trellis proxy-status`: istioctl proxy-status against the control plane's debug port. */
export async function proxyStatus(
  args: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        control: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    err.write(`trellis proxy-status: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out.write(`${USAGE}\n`);
    return 0;
  }
  const control = (values.control ?? process.env.TRELLIS_CONTROL_DEBUG ?? DEFAULT_CONTROL).replace(/\/+$/, '');

  const fetched = await fetchSyncz(control);
  if ('error' in fetched) {
    err.write(`trellis proxy-status: ${fetched.error}\n`);
    return 1;
  }
  if (values.json) {
    out.write(`${JSON.stringify(fetched.raw, null, 2)}\n`);
    return 0;
  }

  const filter = positionals[0];
  const proxies = fetched.proxies.filter((p) => !filter || displayName(p).includes(filter) || p.id.includes(filter));
  if (proxies.length === 0) {
    if (filter) {
      err.write(`trellis proxy-status: no connected proxy matches "${filter}"\n`);
      return 1;
    }
    out.write(`no proxies connected to ${control}\n`);
    return 0;
  }
  out.write(renderTable(proxies, Date.now()));
  return 0;
}

type Fetched = { proxies: SyncProxyJson[]; raw: unknown } | { error: string };

async function fetchSyncz(control: string): Promise<Fetched> {
  const url = `${control}/debug/syncz`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e as Error).message;
    return { error: `cannot reach the control plane at ${control} (${why}); is \`trellis control\` running? (--control or TRELLIS_CONTROL_DEBUG set the address)` };
  }
  if (!res.ok) return { error: `${url} answered HTTP ${res.status}` };
  let raw: unknown;
  try {
    raw = await res.json();
  } catch {
    return { error: `${url} did not return JSON` };
  }
  if (!Array.isArray(raw) || !raw.every(isProxyJson)) return { error: `${url} returned something other than proxy sync status` };
  return { proxies: raw, raw };
}

function isProxyJson(v: unknown): v is SyncProxyJson {
  const p = v as SyncProxyJson;
  return typeof p === 'object' && p !== null && typeof p.id === 'string' && typeof p.types === 'object' && p.types !== null;
}

/** `pod.namespace` as istioctl prints it, or the node id for proxies without a pod. */
function displayName(p: SyncProxyJson): string {
  const { podName, namespace } = p.identity ?? {};
  return podName ? (namespace ? `${podName}.${namespace}` : podName) : p.id;
}

function isNacked(t: SyncTypeJson | undefined): boolean {
  return !!t?.lastNack && t.lastNack.nonce === t.sentNonce;
}

function cell(t: SyncTypeJson | undefined): string {
  if (!t) return 'NOT SENT';
  return isNacked(t) ? `${t.state} (NACK)` : t.state;
}

function renderTable(proxies: SyncProxyJson[], now: number): string {
  const sorted = [...proxies].sort((a, b) => displayName(a).localeCompare(displayName(b)));
  const header = ['NAME', 'TYPE', ...COLUMNS.map(([h]) => h), 'CONNECTED', 'LAST SENT'];
  const rows = sorted.map((p) => {
    const sentTimes = COLUMNS.map(([, k]) => Date.parse(p.types[k]?.sentAt ?? '')).filter((t) => !Number.isNaN(t));
    const lastSent = sentTimes.length ? `${age(now - Math.max(...sentTimes))} ago` : '-';
    const connected = p.connectedAt ? age(now - Date.parse(p.connectedAt)) : '-';
    return [displayName(p), p.identity?.type ?? '-', ...COLUMNS.map(([, k]) => cell(p.types[k])), connected, lastSent];
  });
  const nacks = sorted.flatMap((p) =>
    COLUMNS.flatMap(([short, k]) => {
      const nack = p.types[k]?.lastNack;
      if (!nack) return [];
      const when = Number.isNaN(Date.parse(nack.at)) ? '' : `, ${age(now - Date.parse(nack.at))} ago`;
      return [`${displayName(p)} ${short} (NACK: ${nack.message}) [version ${nack.version || '?'}${when}]`];
    }),
  );
  const table = formatColumns([header, ...rows]);
  return nacks.length ? `${table}\nRejected config:\n${nacks.map((n) => `  ${n}\n`).join('')}` : table;
}

/** Left-aligned columns, three spaces apart (istioctl uses a tabwriter with padding 3). */
function formatColumns(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd() + '\n').join('');
}

/** kubectl-style age: 45s, 3m12s, 2h5m, 3d4h. */
function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${m % 60}m`;
  return `${Math.floor(h / 24)}d${h % 24}h`;
}
