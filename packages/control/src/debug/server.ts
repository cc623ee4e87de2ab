import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { XdsServer } from '../xds/server.js';

export interface DebugServerOptions {
  host: string;
  /** 15014 in Istio; 0 picks a free port. */
  port: number;
  xds: Pick<XdsServer, 'status'>;
  registry: Registry;
  /** Config errors/warnings and files loaded, as the control plane reports them. */
  configStatus: () => unknown;
}

export interface DebugServer {
  port: number;
  close(): Promise<void>;
}

type Handler = () => Promise<Reply> | Reply;
interface Reply {
  status: number;
  contentType: string;
  body: string;
}

const json = (status: number, value: unknown): Reply => ({
  status,
  contentType: 'application/json',
  body: `${JSON.stringify(value, null, 2)}\n`,
});

/**
 * The control plane's monitoring port (istiod's 15014): Prometheus metrics, per-proxy xDS sync status
 * (`/debug/syncz`, what istioctl proxy-status reads), config status and readiness.
 */
export async function startDebugServer(opts: DebugServerOptions): Promise<DebugServer> {
  const routes: Record<string, Handler> = {
    '/metrics': async () => ({
      status: 200,
      contentType: opts.registry.contentType,
      body: await opts.registry.metrics(),
    }),
    '/debug/syncz': () => json(200, opts.xds.status()),
    '/debug/config_status': () => json(200, opts.configStatus()),
    '/ready': () => ({ status: 200, contentType: 'text/plain', body: 'ready\n' }),
  };

  const server = createServer((req, res) => {
    void handle(routes, req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        // Scrapers keep connections alive; drop them so close() doesn't wait for their idle timeout.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(routes: Record<string, Handler>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let reply: Reply;
  try {
    reply = await route(routes, req);
  } catch (err) {
    reply = json(500, { error: err instanceof Error ? err.message : String(err) });
  }
  if (res.destroyed) return;
  res.writeHead(reply.status, { 'content-type': reply.contentType, 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : reply.body);
}

function route(routes: Record<string, Handler>, req: IncomingMessage): Promise<Reply> | Reply {
  let path: string;
  try {
    path = new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    return json(400, { error: 'bad request path' });
  }
  const handler = routes[path];
  if (!handler || !Object.hasOwn(routes, path)) return json(404, { error: `no such path: ${path}`, paths: Object.keys(routes) });
  if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: `${req.method} not allowed on ${path}` });
  return handler();
}
