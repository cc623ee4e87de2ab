import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A whole response, computed before anything is written: these servers answer small JSON and text. */
export interface Reply {
  status: number;
  contentType: string;
  body: string;
}

export const json = (status: number, value: unknown): Reply => ({
  status,
  contentType: 'application/json',
  body: `${JSON.stringify(value, null, 2)}\n`,
});

export interface ReplyServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The control plane's small HTTP servers (debug 15014, API 20001): one function from request to Reply, a
 * thrown error becomes `onError`'s reply, HEAD gets headers only, and close() doesn't wait on keep-alive
 * connections (scrapers and browsers hold them open).
 */
export async function startReplyServer(opts: {
  host: string;
  port: number;
  route: (req: IncomingMessage) => Reply | Promise<Reply>;
  onError: (err: unknown) => Reply;
}): Promise<ReplyServer> {
  const server = createServer(async (req, res) => {
    let reply: Reply;
    try {
      reply = await opts.route(req);
    } catch (err) {
      reply = opts.onError(err);
    }
    if (res.destroyed) return;
    res.writeHead(reply.status, { 'content-type': reply.contentType, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : reply.body);
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
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
