import http from 'node:http';
import https from 'node:https';

/**
 * Sends OTLP/HTTP JSON bodies to a collector, one POST each, over a kept-alive connection. A collector that
 * is down or slow costs the batch, never the sidecar: a POST gives up after `timeoutMs`, and the promise
 * always resolves, to whether the collector took the batch.
 */
export class OtlpHttpExporter {
  private readonly url: URL;
  private readonly agent: http.Agent;

  constructor(
    collectorUrl: string,
    private readonly timeoutMs: number,
  ) {
    this.url = new URL(collectorUrl);
    const Agent = this.url.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 1 });
  }

  send(body: string): Promise<boolean> {
    const request = this.url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve) => {
      const req = request(this.url, {
        method: 'POST',
        agent: this.agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      const timer = setTimeout(() => req.destroy(), this.timeoutMs).unref();
      const done = (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok);
      };
      let answered = false;
      req.on('response', (res) => {
        answered = true;
        res.resume();
        res.on('end', () => done(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300));
        res.on('close', () => done(false)); // cut off before its end; after it, a settled promise stays settled
      });
      req.on('error', () => done(false));
      req.on('close', () => {
        if (!answered) done(false);
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
