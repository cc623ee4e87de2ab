import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane, formatIssue, generateResources, parseNode } from '@trellis/control';
import type { EnvoyJson, ResourceKind } from '@trellis/envoy-api';
import type { RawSnapshot } from '../../src/config/raw-snapshot.js';
import type { StreamInfo } from '../../src/http/stream-info.js';
import { Sidecar } from '../../src/sidecar.js';
import { snapshot } from '../dataplane/helpers/resources.js';
export { many } from './helpers.js';

// Shared by the route-policy tests (fault, cors, retries, mirror, route edits): an in-process Sidecar on a
// pod IP of 127.0.150.0/20 (this suite's loopback range), real upstream servers on the same range, a
// keep-alive client, and Istio YAML translated by the real control plane into the snapshot the sidecar runs.

export interface Proxy {
  readonly sidecar: Sidecar;
  readonly ip: string;
  /** virtualOutbound's port. */
  readonly port: number;
  readonly logs: StreamInfo[];
  apply(raw: RawSnapshot): Promise<void>;
  close(): Promise<void>;
}

/** An in-process sidecar on `ip` (ephemeral ports) running `raw`. */
export async function startProxy(ip: string, raw: RawSnapshot): Promise<Proxy> {
  const logs: StreamInfo[] = [];
  const sidecar = new Sidecar({ podIp: ip, ports: { outbound: 0, inbound: 0, admin: 0, health: 0 }, accessLog: (i) => logs.push(i) });
  await sidecar.start();
  sidecar.apply(raw);
  await sidecar.settled();
  sidecar.setReady();
  return {
    sidecar,
    ip,
    port: sidecar.listenerAddress('virtualOutbound')!.port,
    logs,
    apply: async (next) => {
      sidecar.apply(next);
      await sidecar.settled();
    },
    close: () => sidecar.close(500),
  };
}

export interface Upstream {
  readonly ip: string;
  readonly port: number;
  /** Requests seen (method, url, headers, body), in arrival order. */
  readonly seen: Seen[];
  close(): Promise<void>;
}

export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * An HTTP/1.1 server on `ip`: `handler` answers (default: 200 with a JSON echo of what it saw). The
 * request body has been read into `seen.body` before the handler runs, unless `streaming` is set.
 */
export async function upstream(
  ip: string,
  handler?: (req: http.IncomingMessage, res: http.ServerResponse, seen: Seen) => void,
  opts: { streaming?: boolean } = {},
): Promise<Upstream> {
  const seen: Seen[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const s: Seen = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.alloc(0) };
    seen.push(s);
    if (opts.streaming && handler) return handler(req, res, s);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      s.body = Buffer.concat(chunks);
      if (handler) return handler(req, res, s);
      const body = JSON.stringify({ method: s.method, url: s.url, headers: s.headers, body: s.body.toString() });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 10_000;
  server.on('connection', (c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  await new Promise<void>((r) => server.listen(0, ip, r));
  return {
    ip,
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const c of sockets) c.destroy();
        server.close(() => r());
      }),
  };
}

/** A port on `ip` nothing listens on (bound, then released). */
export async function closedPort(ip: string): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, ip, r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Wall time from sending to the end of the response, ms. */
  ms: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One HTTP/1.1 request to the proxy's outbound listener. */
export function send(
  proxy: Proxy,
  path: string,
  opts: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer | (string | Buffer)[]; chunkGapMs?: number } = {},
): Promise<Reply> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: proxy.ip, port: proxy.port, path, method: opts.method ?? 'GET', headers: opts.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString(), ms: performance.now() - start }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    const body = opts.body;
    if (Array.isArray(body)) {
      // Chunks spaced in time: the body is still arriving while the proxy works on the request.
      let i = 0;
      const next = () => {
        if (i === body.length) return void req.end();
        req.write(body[i++]!);
        setTimeout(next, opts.chunkGapMs ?? 30);
      };
      next();
    } else req.end(body);
  });
}

/** Polls until `cond()` holds, or fails after `ms`. */
export async function until(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- Istio YAML through the real control plane ------------------------------------------------------------

export interface Mesh {
  /** The snapshot the control plane would send a sidecar with this pod IP, round-tripped through the codec. */
  snapshotFor(podIp: string): RawSnapshot;
  /** Replaces a file of the config folder and waits for the control plane to load it. */
  write(name: string, text: string): Promise<void>;
  close(): Promise<void>;
}

const KINDS: ResourceKind[] = ['cluster', 'endpoint', 'listener', 'route'];

/** A control plane (in process) over a temporary folder holding `files`. */
export async function mesh(files: Record<string, string>): Promise<Mesh> {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-policies-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const plane = await ControlPlane.start({
    configDir: dir,
    xdsHost: '127.0.0.1',
    xdsPort: 0,
    debugHost: '127.0.0.1',
    debugPort: 0,
    apiHost: '127.0.0.1',
    apiPort: 0,
    debounceMs: 20,
  });
  const { errors } = plane.configStatus();
  if (errors > 0) {
    const issues = plane.source.current().issues.map((i) => formatIssue(i)).join('\n');
    await plane.close();
    throw new Error(`the test's Istio config has errors:\n${issues}`);
  }
  let version = 0;
  return {
    snapshotFor(podIp) {
      const proxy = parseNode({ id: `sidecar~${podIp}~client-0.default~default.svc.cluster.local` } as never);
      const spec: Record<string, EnvoyJson[]> = {};
      for (const kind of KINDS) spec[kind] = generateResources({ ...plane.mesh(), proxy }, kind, null).map((r) => r.resource as EnvoyJson);
      return snapshot({ listeners: spec.listener, routes: spec.route, clusters: spec.cluster, endpoints: spec.endpoint, version: String(++version) });
    },
    async write(name, text) {
      const before = plane.mesh();
      await writeFile(join(dir, name), text);
      await until(`${name} to load`, () => plane.mesh() !== before, 5000);
    },
    async close() {
      await plane.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
