import http from 'node:http';
import net from 'node:net';
import { Sidecar } from '../../../src/sidecar.js';
import type { RawSnapshot } from '../../../src/config/raw-snapshot.js';
import type { StreamInfo } from '../../../src/http/stream-info.js';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One HTTP/1.1 request through a listener (keep-alive agent); `path` may be absolute-form. */
export function request(
  port: number,
  path: string,
  opts: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer; agent?: http.Agent | false } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent ?? agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Sends raw bytes on a fresh connection and collects everything until the server closes (or `untilBytes`). */
export function rawExchange(port: number, data: string | Buffer, opts: { endAfterWrite?: boolean; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve(out);
    }, opts.timeoutMs ?? 5000);
    s.on('data', (c) => (out += c.toString('latin1')));
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on('error', reject);
    s.write(data);
    if (opts.endAfterWrite) s.end();
  });
}

export interface RunningSidecar {
  sidecar: Sidecar;
  /** virtualOutbound's port. */
  port: number;
  logs: StreamInfo[];
  close(): Promise<void>;
}

/** A started Sidecar on 127.0.0.1 with ephemeral ports, running `raw`. */
export async function startSidecar(raw: RawSnapshot): Promise<RunningSidecar> {
  const logs: StreamInfo[] = [];
  const sidecar = new Sidecar({
    podIp: '127.0.0.1',
    ports: { outbound: 0, inbound: 0, admin: 0, health: 0 },
    accessLog: (info) => logs.push(info),
  });
  await sidecar.start();
  sidecar.apply(raw);
  await sidecar.settled();
  sidecar.setReady();
  return {
    sidecar,
    port: sidecar.listenerAddress('virtualOutbound')!.port,
    logs,
    close: () => sidecar.close(1000),
  };
}

/** Waits until `cond` holds (polling), or fails after `timeoutMs`. */
export async function eventually(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
