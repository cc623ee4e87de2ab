/**
 * The upstream every target ends at: a minimal node:http server answering each payload's fixed body.
 * Usage: node upstream.js HOST:PORT[,HOST:PORT...] (one process, one event loop, for all listeners).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { PAYLOADS } from '../lib/payloads.js';

const routes = new Map(PAYLOADS.map((p) => [`${p.method} ${p.path}`, p]));

function handle(req: IncomingMessage, res: ServerResponse): void {
  const payload = routes.get(`${req.method} ${req.url}`);
  let received = 0;
  req.on('data', (chunk: Buffer) => (received += chunk.length));
  req.on('end', () => {
    if (!payload) return reply(res, 404, 'no such route\n');
    if (received !== payload.requestBytes) return reply(res, 400, `expected ${payload.requestBytes} body bytes, got ${received}\n`);
    reply(res, 200, payload.responseBody);
  });
}

function reply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

for (const addr of (process.argv[2] ?? '').split(',')) {
  const [host, port] = addr.split(':');
  const server = createServer(handle);
  // Longer than every proxy's idle pool timeout, so the upstream never closes a pooled connection mid-run.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 121_000;
  server.listen(Number(port), host);
}
// The bench driver holds an IPC channel open; when it goes away, so do we.
process.on('disconnect', () => process.exit(0));
