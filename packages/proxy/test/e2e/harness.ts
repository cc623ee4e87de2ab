import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

// A real sidecar process (`node bin/trellis.js proxy`) in front of real HTTP apps, for end-to-end tests.

const BIN = fileURLToPath(new URL('../../../../bin/trellis.js', import.meta.url));

/** An app answering `{version, path, headers}`; `/slow?ms=N` answers after N ms. */
export async function startApp(version: string, host = '127.0.0.1', port = 0): Promise<{ port: number; server: Server }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://app');
    const reply = () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ version, path: url.pathname, headers: req.headers }));
    };
    if (url.pathname === '/slow') setTimeout(reply, Number(url.searchParams.get('ms') ?? 500));
    else reply();
  });
  await new Promise<void>((r) => server.listen(port, host, r));
  return { port: (server.address() as AddressInfo).port, server };
}

/** A config folder, rewritten file by file as tests go. */
export async function configDir(files: Record<string, string>): Promise<{ dir: string; write(name: string, text: string): Promise<void>; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-e2e-'));
  const write = (name: string, text: string) => writeFile(join(dir, name), text);
  for (const [name, text] of Object.entries(files)) await write(name, text);
  return { dir, write, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface SidecarProcess {
  ip: string;
  /** Sends a request through the sidecar's outbound listener with `Host: host`. */
  call(host: string, path?: string, headers?: Record<string, string>): Promise<{ status: number; body: string }>;
  /** `version` of the app that answered (or `HTTP <status>`). */
  version(host: string, path?: string, headers?: Record<string, string>): Promise<string>;
  adminText(path: string): Promise<string>;
  stop(): Promise<void>;
  output(): string;
}

/** Starts `trellis proxy` on `ip` and waits for /healthz/ready. */
export async function startSidecar(ip: string, controlPlane: string, env: Record<string, string> = {}): Promise<SidecarProcess> {
  let out = '';
  const child: ChildProcess = spawn(process.execPath, [BIN, 'proxy'], {
    env: {
      ...process.env,
      TRELLIS_CONTROL_PLANE: controlPlane,
      TRELLIS_POD_IP: ip,
      TRELLIS_POD_NAME: 'client-0',
      TRELLIS_NAMESPACE: 'default',
      TRELLIS_LABELS: 'app=client',
      ...env,
    },
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const pool = new Pool(`http://${ip}:15001`, { connections: 16 });
  const call = async (host: string, path = '/', headers: Record<string, string> = {}) => {
    const res = await pool.request({ method: 'GET', path, headers: { host, ...headers } });
    return { status: res.statusCode, body: await res.body.text() };
  };
  const sidecar: SidecarProcess = {
    ip,
    call,
    version: async (host, path, headers) => {
      const { status, body } = await call(host, path, headers);
      return status === 200 ? (JSON.parse(body) as { version: string }).version : `HTTP ${status}`;
    },
    adminText: async (path) => (await fetch(`http://${ip}:15000${path}`)).text(),
    output: () => out,
    stop: async () => {
      await pool.close();
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  await eventually('sidecar ready', async () => (await fetch(`http://${ip}:15021/healthz/ready`).catch(() => undefined))?.status === 200, 15_000).catch(
    (err) => {
      child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\n${out}`);
    },
  );
  return sidecar;
}

/** Polls `check` until it returns something truthy, or fails after `ms`. */
export async function eventually<T>(what: string, check: () => Promise<T | false | undefined> | T | false | undefined, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Counts answers per version over `n` calls, `concurrency` at a time. */
export async function tally(n: number, one: () => Promise<string>, concurrency = 8): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const v = await one();
      counts[v] = (counts[v] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return counts;
}
