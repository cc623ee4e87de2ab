import http from 'node:http';
import type { AddressInfo } from 'node:net';

// Upstreams and a client for the traffic-policy tests. Pod/server IPs come from this area's own loopback
// range, 127.0.140.0 - 127.0.149.255; each test file uses its own third-octet-and-fourth slice.

export interface Upstream {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
  /** Arrival times (performance.now()) of the requests it received. */
  readonly arrivals: number[];
  /** Connections accepted, and the most open at once. */
  readonly connections: { total: number; open: number; maxOpen: number };
  /** What it answers: status and delay, changeable while running. */
  status: number;
  delayMs: number;
  close(): Promise<void>;
}

/** An HTTP/1.1 server on `ip` (ephemeral port) answering `status` after `delayMs`, naming itself in `x-upstream`. */
export async function upstream(name: string, ip: string, opts: { status?: number; delayMs?: number } = {}): Promise<Upstream> {
  const arrivals: number[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const u = {
    name,
    ip,
    port: 0,
    arrivals,
    connections: { total: 0, open: 0, maxOpen: 0 },
    status: opts.status ?? 200,
    delayMs: opts.delayMs ?? 0,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  const server = http.createServer((req, res) => {
    arrivals.push(performance.now());
    const reply = () => {
      const body = name;
      res.writeHead(u.status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), 'x-upstream': name });
      res.end(body);
    };
    req.resume();
    req.on('end', () => (u.delayMs > 0 ? setTimeout(reply, u.delayMs) : reply()));
  });
  server.keepAliveTimeout = 10_000;
  server.on('connection', (s) => {
    sockets.add(s);
    const c = u.connections;
    c.total++;
    c.maxOpen = Math.max(c.maxOpen, ++c.open);
    s.on('close', () => {
      sockets.delete(s);
      c.open--;
    });
  });
  await new Promise<void>((r) => server.listen(0, ip, r));
  u.port = (server.address() as AddressInfo).port;
  return u;
}

export interface Answer {
  status: number;
  /** The `x-upstream` that answered ('' for local replies). */
  upstream: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const agents = new Map<string, http.Agent>();

/** A keep-alive agent per source address, so tests can choose the client's IP. */
function agentFor(localAddress: string | undefined): http.Agent {
  const key = localAddress ?? '';
  let a = agents.get(key);
  if (!a) agents.set(key, (a = new http.Agent({ keepAlive: true, maxSockets: 64, ...(localAddress ? { localAddress } : {}) })));
  return a;
}

/** One request through the sidecar at 127.0.0.1:`port` with `Host: host`. */
export function call(
  port: number,
  host: string,
  path = '/',
  opts: { headers?: http.OutgoingHttpHeaders; localAddress?: string; fresh?: boolean } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        headers: { host, ...opts.headers },
        agent: opts.fresh ? false : agentFor(opts.localAddress),
        ...(opts.fresh && opts.localAddress ? { localAddress: opts.localAddress } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, upstream: String(res.headers['x-upstream'] ?? ''), headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Runs `n` calls of `one(i)`, `concurrency` at a time, and returns the results in call order. */
export async function many<T>(n: number, concurrency: number, one: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await one(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return out;
}

/** Counts of each value. */
export function tally(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

export function closeAgents(): void {
  for (const a of agents.values()) a.destroy();
  agents.clear();
}
