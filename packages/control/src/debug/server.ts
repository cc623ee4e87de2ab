import type { IncomingMessage } from 'node:http';
import type { Registry } from 'prom-client';
import { errorMessage, json, startReplyServer, type Reply, type ReplyServer } from '../http/reply-server.js';
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

export type DebugServer = ReplyServer;

type Handler = () => Promise<Reply> | Reply;

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

  return startReplyServer({
    host: opts.host,
    port: opts.port,
    route: (req) => route(routes, req),
    onError: (err) => json(500, { error: errorMessage(err) }),
  });
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
