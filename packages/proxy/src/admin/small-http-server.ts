import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (url: URL, res: http.ServerResponse) => void;

/** A tiny HTTP server on an address and port, closed with its connections. */
export class SmallHttpServer {
  private readonly server: http.Server;

  constructor(
    private readonly host: string,
    private readonly port: number,
    routes: Record<string, Handler>,
  ) {
    this.server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://admin');
      const handler = req.method === 'GET' || req.method === 'HEAD' ? routes[url.pathname] : undefined;
      if (!handler) return send(res, 404, 'text/plain', `unknown admin path ${url.pathname}\n`);
      handler(url, res);
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

export function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-cache, max-age=0' });
  res.end(body);
}
