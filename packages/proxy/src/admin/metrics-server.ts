import type { Registry } from 'prom-client';
import { SmallHttpServer, send } from './small-http-server.js';

/** Istio's Prometheus port (15090): `/stats/prometheus`, the sidecar's registry in Prometheus text. */
export function metricsServer(host: string, port: number, registry: Registry): SmallHttpServer {
  return new SmallHttpServer(host, port, {
    '/stats/prometheus': (_url, res) => {
      registry.metrics().then(
        (body) => send(res, 200, registry.contentType, body),
        (err: unknown) => send(res, 500, 'text/plain', `metrics failed: ${(err as Error).message}\n`),
      );
    },
  });
}
