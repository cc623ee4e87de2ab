import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const root = (path: string) => fileURLToPath(new URL(`../../../../${path}`, import.meta.url));
export const BOOKINFO = root('examples/bookinfo');
export const TRELLIS = root('bin/trellis.js');
/** Istio's own Bookinfo YAML (bookinfo.yaml and the networking samples), read where it is, never copied into the repo. */
export const ISTIO_BOOKINFO = fileURLToPath(new URL('../../../../../shared/conformance/istio-bookinfo/', import.meta.url));

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

/** One request on a fresh connection; `url` may name a proxy with `target` the absolute-form request target. */
export function http(url: string, opts: HttpOptions & { target?: string } = {}): Promise<HttpResult> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, method: opts.method ?? 'GET', path: opts.target ?? u.pathname + u.search, headers: opts.headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error(`${url}: timeout`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * A Bookinfo app as a child process, as `trellis up` would run it without a sidecar: `node <script>` in
 * examples/bookinfo with POD_IP/PORT/HOSTNAME and nothing else from the test's environment (no HTTP_PROXY).
 */
export class AppProcess {
  readonly output: string[] = [];
  private readonly exited: Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => this.output.push(...d.split('\n').filter(Boolean)));
    }
  }

  /** Starts the script and resolves once it listens (its "listening on" line). */
  static async start(script: string, ip: string, env: Record<string, string> = {}): Promise<AppProcess> {
    const name = env.HOSTNAME ?? `${script.replace(/\.mjs$/, '')}-${ip}`;
    const child = spawn(process.execPath, [script], {
      cwd: BOOKINFO,
      env: { PATH: process.env.PATH, POD_IP: ip, PORT: '9080', POD_NAME: name, POD_NAMESPACE: 'default', HOSTNAME: name, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const app = new AppProcess(child, `http://${ip}:9080`);
    await app.waitForLine(/listening on|^loading /, 10_000);
    return app;
  }

  /** The first output line matching `pattern`, waiting for it. */
  async waitForLine(pattern: RegExp, timeoutMs: number): Promise<string> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const line = this.output.find((l) => pattern.test(l));
      if (line) return line;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`exited (${this.child.exitCode ?? this.child.signalCode}) before printing ${pattern}:\n${this.output.join('\n')}`);
      }
      if (Date.now() > until) throw new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${this.output.join('\n')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Sends `signal` and resolves when the process has exited. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}

/** What a scripted server does with one request: hang (never answer), answer a status, or forward it. */
export type Action = 'hang' | 'forward' | number;

/**
 * A stand-in for a service that misbehaves on cue: each request takes the next action of `script` (forwarding
 * to the real service once the script is used up), and is counted.
 */
export class ScriptedServer {
  script: Action[] = [];
  readonly requests: { path: string; headers: IncomingHttpHeaders }[] = [];
  private readonly server: Server;

  constructor(private readonly forwardTo: string) {
    this.server = createServer((req, res) => {
      this.requests.push({ path: req.url!, headers: req.headers });
      const action = this.script.shift() ?? 'forward';
      if (action === 'hang') return;
      if (typeof action === 'number') {
        res.writeHead(action, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `scripted ${action}` }));
        return;
      }
      forward(req, res, this.forwardTo);
    });
  }

  async listen(ip: string): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, ip, resolve));
    return String((this.server.address() as AddressInfo).port);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** One request an HTTP proxy received: its request target, Host header and headers. */
export interface ProxiedRequest {
  target: string;
  host: string | undefined;
  headers: IncomingHttpHeaders;
}

/**
 * What a sidecar's outbound listener is to an app, minus the mesh: an HTTP proxy that records every request and
 * forwards it by the absolute-form target's host name (`routes`: service name -> `ip:port`).
 */
export class RecordingProxy {
  readonly requests: ProxiedRequest[] = [];
  private readonly server: Server;

  constructor(routes: Record<string, string>) {
    this.server = createServer((req, res) => {
      this.requests.push({ target: req.url!, host: req.headers.host, headers: req.headers });
      const upstream = URL.canParse(req.url!) ? routes[new URL(req.url!).hostname] : undefined;
      if (!upstream) {
        res.writeHead(404);
        res.end();
        return;
      }
      const u = new URL(req.url!);
      req.url = u.pathname + u.search;
      forward(req, res, upstream);
    });
  }

  async listen(ip: string): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, ip, resolve));
    return `http://${ip}:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function forward(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, to: string): void {
  const [host, port] = to.split(':');
  const up = request({ host, port, method: req.method, path: req.url, headers: req.headers, agent: false }, (upRes) => {
    res.writeHead(upRes.statusCode!, upRes.headers);
    upRes.pipe(res);
  });
  up.on('error', () => {
    res.writeHead(503);
    res.end();
  });
  req.pipe(up);
}

/** Which reviews version a product page shows: v1 no stars, v2 black, v3 red; or what went wrong. */
export function reviewsShown(page: string): 'v1' | 'v2' | 'v3' | 'reviews error' | 'ratings error' {
  if (page.includes('Error fetching product reviews!')) return 'reviews error';
  if (page.includes('<font color="red">')) return 'v3';
  if (page.includes('<font color="black">')) return 'v2';
  if (page.includes('Ratings service is currently unavailable')) return 'ratings error';
  return 'v1';
}

export function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}
