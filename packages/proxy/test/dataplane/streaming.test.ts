import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildSidecar } from './helpers/child-sidecar.js';
import { request } from './helpers/client.js';
import { cla, edsCluster, listener, routeConfig, snapshot, toCluster, vhost } from './helpers/resources.js';
import { echoServer, type TestServer } from './helpers/servers.js';

const MB = 1024 * 1024;
const SIZE = 50 * MB;
const CHUNK = Buffer.alloc(64 * 1024, 'x');
/** The proxy's RSS may grow this much over its warmed-up baseline while 50 MB pass through. */
const RSS_BUDGET = 40 * MB;
/**
 * Bytes the proxy holds (V8 heap + Buffers, after a GC) may grow this much: the data in flight between
 * two sockets. A proxy that ignored backpressure would hold most of the 50 MB.
 */
const RETAINED_BUDGET = 30 * MB;

interface Memory {
  rss: number;
  retained: number;
}

let sink: TestServer;
let source: TestServer;
let small: TestServer;
let proxy: ChildSidecar;
let sinkBytes = -1;

/** Writes `total` bytes to a stream, honouring backpressure. */
async function pump(out: NodeJS.WritableStream, total: number): Promise<void> {
  for (let sent = 0; sent < total; sent += CHUNK.length) {
    if (!out.write(CHUNK)) await new Promise((r) => out.once('drain', r));
  }
}

/** Polls the proxy's memory (after GC) until stopped; returns the peaks. */
function watchMemory(): { stop(): Promise<Memory> } {
  const peak: Memory = { rss: 0, retained: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      const m = await proxy.memory();
      peak.rss = Math.max(peak.rss, m.rss);
      peak.retained = Math.max(peak.retained, m.retained);
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}

function upload(bytes: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxy.port, method: 'POST', path: '/upload', headers: { host: 'sink' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    void pump(req, bytes).then(() => req.end());
  });
}

function download(size: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: proxy.port, path: `/download?size=${size}`, headers: { host: 'source' } }, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => (n += c.length));
        res.on('end', () => resolve(n));
      })
      .on('error', reject);
  });
}

/**
 * The proxy's memory once warmed up: a few requests and a 10 MB transfer each way first, so the runtime's
 * one-time growth (V8's young generation expands under a high allocation rate) is part of the baseline and
 * what's measured is growth with the size of the body.
 */
async function baseline(): Promise<Memory> {
  for (let i = 0; i < 20; i++) await request(proxy.port, '/', { headers: { host: 'small' } });
  await upload(10 * MB);
  await download(10 * MB);
  await proxy.memory(); // a first collection; freeing Buffers' memory finishes in the background
  await new Promise((r) => setTimeout(r, 200));
  return proxy.memory();
}

function expectBounded(peak: Memory, base: Memory): void {
  expect(peak.rss - base.rss).toBeLessThan(RSS_BUDGET);
  expect(peak.retained - base.retained).toBeLessThan(RETAINED_BUDGET);
}

beforeAll(async () => {
  sink = await echoServer('sink', (req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      sinkBytes = n;
      res.end(String(n));
    });
  });
  source = await echoServer('source', (req, res) => {
    const size = Number(new URL(req.url!, 'http://x').searchParams.get('size') ?? SIZE);
    res.writeHead(200, { 'content-length': String(size) });
    void pump(res, size).then(() => res.end());
  });
  small = await echoServer('small');
  proxy = await ChildSidecar.start(
    snapshot({
      listeners: [listener('virtualOutbound', 15001, 'r')],
      routes: [
        routeConfig('r', [
          vhost('sink', ['sink'], [toCluster({ prefix: '/' }, 'sink')]),
          vhost('source', ['source'], [toCluster({ prefix: '/' }, 'source')]),
          vhost('small', ['small'], [toCluster({ prefix: '/' }, 'small')]),
        ]),
      ],
      clusters: [edsCluster('sink'), edsCluster('source'), edsCluster('small')],
      endpoints: [cla('sink', [{ port: sink.port }]), cla('source', [{ port: source.port }]), cla('small', [{ port: small.port }])],
    }),
  );
}, 60_000);

afterAll(async () => {
  await proxy.close();
  await Promise.all([sink, source, small].map((s) => s.close()));
});

describe('bodies stream through with bounded memory', () => {
  it('uploads 50 MB (chunked) without buffering it', async () => {
    const base = await baseline();
    const memory = watchMemory();
    const status = await upload(SIZE);
    const peak = await memory.stop();
    expect(status).toBe(200);
    expect(sinkBytes).toBe(SIZE);
    expectBounded(peak, base);
  });

  it('downloads 50 MB without buffering it', async () => {
    const base = await baseline();
    const memory = watchMemory();
    const received = await download(SIZE);
    const peak = await memory.stop();
    expect(received).toBe(SIZE);
    expectBounded(peak, base);
  });

  it("doesn't let a slow reader stall other clients or fill the proxy's memory", async () => {
    const base = await baseline();
    const memory = watchMemory();
    let received = 0;
    let slowRes: http.IncomingMessage | null = null;
    const slowDone = new Promise<void>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: proxy.port, path: '/download', headers: { host: 'source' } }, (res) => {
          slowRes = res;
          res.pause(); // a reader that has stopped reading
          res.on('data', (c: Buffer) => (received += c.length));
          res.on('end', () => resolve());
        })
        .on('error', reject);
    });
    while (slowRes === null) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 300)); // let the upstream fill whatever it can
    const started = Date.now();
    for (let i = 0; i < 20; i++) {
      const r = await request(proxy.port, '/', { headers: { host: 'small' } });
      expect(r.status).toBe(200);
    }
    expect(Date.now() - started).toBeLessThan(2000);
    expectBounded(await memory.stop(), base);
    (slowRes as http.IncomingMessage).resume();
    await slowDone;
    expect(received).toBe(SIZE);
  });
});
