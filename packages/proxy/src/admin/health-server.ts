import { SmallHttpServer, send } from './small-http-server.js';

/** Istio's health port (15021): /healthz/ready is 200 once the sidecar has its config, 503 before. */
export function healthServer(host: string, port: number, isReady: () => boolean): SmallHttpServer {
  return new SmallHttpServer(host, port, {
    '/healthz/ready': (_url, res) => (isReady() ? send(res, 200, 'text/plain', '') : send(res, 503, 'text/plain', 'not ready\n')),
  });
}
