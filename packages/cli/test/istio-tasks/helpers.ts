import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { PodJson } from '@trellis/control';
import { up } from '../../src/commands/up.js';
import { eventually } from '../../../control/test/local/helpers.js';

export const TRELLIS = fileURLToPath(new URL('../../../../bin/trellis.js', import.meta.url));
export const BOOKINFO = fileURLToPath(new URL('../../../../examples/bookinfo/', import.meta.url));
export const HTTPBIN = fileURLToPath(new URL('../../../../examples/httpbin/', import.meta.url));
/** Istio's Bookinfo networking samples, read where they are (never copied into the repo). */
export const ISTIO = (file: string): string => fileURLToPath(new URL(`../../../../../shared/conformance/istio-bookinfo/${file}`, import.meta.url));

export class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** The real `trellis` bin, as a user runs it; `input` goes to its stdin (for `-f -`). */
export function trellis(args: string[], input?: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [TRELLIS, ...args], { timeout: 15_000 }, (error, out, err) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out, err }),
    );
    child.stdin!.end(input ?? '');
  });
}

export interface RunningExample {
  /** The temporary copy of examples/httpbin (its networking/ YAML is there too). */
  dir: string;
  api: string;
  debug: string;
  pods: PodJson[];
  /** Stops the mesh and removes the copy. */
  stop(): Promise<void>;
}

/**
 * `trellis up` (in-process, plain output, ephemeral ports, no gateway) on `folder` of a temporary copy of
 * examples/httpbin (`circuit-breaking` or `mirroring`), pod IPs from `firstPodIp`; resolves once its `podCount`
 * pods in `default` are ready.
 */
export async function upHttpbin(folder: string, firstPodIp: string, podCount: number): Promise<RunningExample> {
  const dir = join(mkdtempSync(join(tmpdir(), `trellis-${folder}-`)), 'httpbin');
  cpSync(HTTPBIN, dir, { recursive: true });
  const out = new Sink();
  const abort = new AbortController();
  const ephemeral = ['--xds-port', '0', '--debug-port', '0', '--api-port', '0', '--collector-port', '0', '--quiet', '--no-gateway'];
  const running = up([join(dir, folder), ...ephemeral], out, { signal: abort.signal, firstPodIp });
  const stop = async () => {
    abort.abort();
    await running;
    rmSync(join(dir, '..'), { recursive: true, force: true });
  };
  try {
    const [, debugPort, api] = await eventually('the mesh up line', () => /debug 127\.0\.0\.1:(\d+), API (http:\/\/127\.0\.0\.1:\d+)/.exec(out.text));
    const pods = await eventually(`${podCount} ready pods`, async () => {
      const list = (await (await fetch(`${api}/api/v1/namespaces/default/pods`)).json()) as { items: PodJson[] };
      return list.items.length === podCount && list.items.every((p) => p.status.conditions[0]?.status === 'True') && list.items;
    }, 20_000);
    return { dir, api: api!, debug: `http://127.0.0.1:${debugPort}`, pods, stop };
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}; trellis up said:\n${out.text}`);
  }
}

export interface Page {
  status: number;
  body: string;
  ms: number;
}

/**
 * A browser of Bookinfo's pages over kept-alive connections, with a signed-in user's session cookie when given.
 * `entry` is the ingress gateway's URL (`http://IP:8080`: requests as a browser outside the mesh sends them) or,
 * with `viaSidecar`, a sidecar's outbound listener (HTTP proxy form, as an app in the mesh sends them).
 */
export class Browser {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  private readonly host: string;
  private readonly port: number;

  constructor(readonly entry: string, private readonly viaSidecar = false) {
    const u = new URL(entry);
    this.host = u.hostname;
    this.port = Number(u.port);
  }

  page(path: string, opts: { cookie?: string; method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Page & { headers: Record<string, unknown> }> {
    const started = Date.now();
    const headers: Record<string, string> = { host: this.viaSidecar ? 'productpage:9080' : `${this.host}:${this.port}`, ...opts.headers };
    if (opts.cookie) headers.cookie = opts.cookie;
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.host,
          port: this.port,
          agent: this.agent,
          method: opts.method ?? 'GET',
          path: this.viaSidecar ? `http://productpage:9080${path}` : path,
          headers,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, body, ms: Date.now() - started, headers: res.headers }));
        },
      );
      req.setTimeout(15_000, () => req.destroy(new Error(`${path}: no answer in 15 s`)));
      req.on('error', reject);
      req.end(opts.body);
    });
  }

  /** Signs in as `user` (productpage's login form) and returns the session cookie. */
  async login(user: string): Promise<string> {
    const res = await this.page('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `username=${encodeURIComponent(user)}`,
    });
    const cookie = String(res.headers['set-cookie'] ?? '').split(';')[0];
    if (res.status !== 302 || !cookie) throw new Error(`login as ${user}: HTTP ${res.status}`);
    return cookie;
  }

  /** What `n` loads of /productpage showed (see `shown`), `concurrency` at a time. */
  async versions(n: number, opts: { cookie?: string; concurrency?: number } = {}): Promise<string[]> {
    const seen: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < n) {
        next++;
        const p = await this.page('/productpage', opts);
        seen.push(p.status === 200 ? shown(p.body) : `HTTP ${p.status}`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(n, opts.concurrency ?? 1) }, worker));
    return seen;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** What a product page shows of reviews: v1 (no stars), v2 (black), v3 (red), or the error Istio's tasks look for. */
export function shown(page: string): string {
  if (page.includes('Sorry, product reviews are currently unavailable for this book.')) return 'reviews unavailable';
  if (page.includes('Ratings service is currently unavailable')) return 'ratings unavailable';
  if (page.includes('<font color="red">')) return 'v3';
  if (page.includes('<font color="black">')) return 'v2';
  if (page.includes('Error fetching product reviews!')) return 'reviews error';
  return 'v1';
}

/** The share of each value, in percent. */
export function shares(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 100 / values.length;
  return out;
}

/** One proxy of `/debug/syncz`, as far as these tests read it. */
interface SyncProxy {
  identity: { podName?: string; namespace?: string };
  types: Record<string, { sentVersion?: string; state: string }>;
}

/**
 * Waits until every sidecar of namespace `default` (Bookinfo's; a gateway's routes don't change with mesh rules)
 * has been sent a new `type` (e.g. `route`) version since `before` and none of its types is STALE: then a rule
 * just applied is what every sidecar routes by.
 */
export async function waitForPush(debug: string, before: Map<string, string | undefined>, type = 'route'): Promise<void> {
  let last: SyncProxy[] = [];
  await eventually(`every sidecar ACKing a new ${type} config`, async () => {
    const proxies = (await syncz(debug)).filter((p) => p.identity.namespace === 'default');
    last = proxies;
    return (
      proxies.length >= [...before.keys()].filter((k) => k.startsWith('default/')).length &&
      proxies.every((p) => {
        const key = `${p.identity.namespace}/${p.identity.podName}`;
        return p.types[type]?.sentVersion !== before.get(key) && Object.values(p.types).every((t) => t.state !== 'STALE');
      })
    );
  }, 10_000).catch((e: Error) => {
    const states = last.map((p) => `${p.identity.podName}: ${Object.entries(p.types).map(([k, t]) => `${k} ${t.state} ${t.sentVersion}`).join(', ')}`);
    throw new Error(`${e.message}; before ${JSON.stringify([...before])}; now:\n${states.join('\n')}`);
  });
}

/** Each sidecar's current version of `type`, to compare with after a change. */
export async function pushedVersions(debug: string, type = 'route'): Promise<Map<string, string | undefined>> {
  return new Map((await syncz(debug)).map((p) => [`${p.identity.namespace}/${p.identity.podName}`, p.types[type]?.sentVersion]));
}

async function syncz(debug: string): Promise<SyncProxy[]> {
  return (await (await fetch(`${debug}/debug/syncz`)).json()) as SyncProxy[];
}
