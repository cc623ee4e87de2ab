import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, request, startSidecar, type RunningSidecar } from './helpers/client.js';
import { cla, edsCluster, listener, routeConfig, snapshot, toCluster, vhost } from './helpers/resources.js';
import { closedPort, echoServer, h2Server, type Echo, type TestServer } from './helpers/servers.js';

let grpc: TestServer;
let h1: TestServer;
let hang: TestServer;
let hangClosed = 0;
/** Upstream h2 streams that were cancelled before they finished. */
let h2Cancelled = 0;
let proxy: RunningSidecar;
/** What the gRPC-style upstream saw of the last call. */
let lastCall: { headers: http2.IncomingHttpHeaders; body: Buffer; trailers: http2.IncomingHttpHeaders | null } | null = null;

/** A length-prefixed gRPC message. */
function frame(payload: string): Buffer {
  const body = Buffer.from(payload);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

beforeAll(async () => {
  // Echoes the request messages back, then ends with grpc-status trailers (as a gRPC server does).
  grpc = await h2Server((stream, headers) => {
    if (headers[':path'] === '/helloworld.Greeter/Hang') {
      stream.on('close', () => h2Cancelled++);
      return;
    }
    if (headers[':path'] === '/helloworld.Greeter/Missing') {
      // A trailers-only response: status in the headers, END_STREAM on the same frame.
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'unimplemented' }, { endStream: true });
      return;
    }
    const chunks: Buffer[] = [];
    let trailers: http2.IncomingHttpHeaders | null = null;
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      lastCall = { headers, body: Buffer.concat(chunks), trailers };
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'ok', 'x-echo-trailer': String(trailers?.['x-client-trailer'] ?? '') }));
      stream.end(Buffer.concat(chunks));
    });
  });
  h1 = await echoServer('h1');
  hang = await echoServer('hang', (req) => req.on('close', () => hangClosed++));
  proxy = await startSidecar(
    snapshot({
      listeners: [listener('virtualOutbound', 15001, 'r')],
      routes: [
        routeConfig('r', [
          vhost('greeter', ['greeter:50051'], [toCluster({ prefix: '/' }, 'greeter')]),
          vhost('h1', ['h1'], [toCluster({ prefix: '/' }, 'h1')]),
          vhost('down', ['down'], [toCluster({ prefix: '/' }, 'down')]),
          vhost('hang', ['hang'], [toCluster({ prefix: '/' }, 'hang')]),
        ]),
      ],
      clusters: [edsCluster('greeter', { h2: true }), edsCluster('h1'), edsCluster('down', { h2: true, connectTimeoutMs: 1000 }), edsCluster('hang')],
      endpoints: [cla('greeter', [{ port: grpc.port }]), cla('h1', [{ port: h1.port }]), cla('down', [{ port: await closedPort() }]), cla('hang', [{ port: hang.port }])],
    }),
  );
});

afterAll(async () => {
  await proxy.close();
  await Promise.all([grpc.close(), h1.close(), hang.close()]);
});

function activeTo(cluster: string): number {
  return proxy.sidecar.current.clusters.get(cluster)!.hosts.allHosts[0]!.stats.rqActive;
}

interface H2Reply {
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders | null;
}

function h2Call(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body: Buffer | null, trailers?: http2.OutgoingHttpHeaders): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === null, waitForTrailers: !!trailers });
    if (trailers) stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let responseTrailers: http2.IncomingHttpHeaders | null = null;
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (responseHeaders = h));
    stream.on('trailers', (t) => (responseTrailers = t));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ headers: responseHeaders, body: Buffer.concat(chunks), trailers: responseTrailers }));
    stream.on('error', reject);
    if (body) stream.end(body);
  });
}

describe('HTTP/2 (h2c prior knowledge)', () => {
  it('carries a gRPC-style call to an h2c upstream with trailers both ways', async () => {
    const session = http2.connect(`http://127.0.0.1:${proxy.port}`);
    try {
      const reply = await h2Call(
        session,
        { ':method': 'POST', ':path': '/helloworld.Greeter/SayHello', ':authority': 'greeter:50051', 'content-type': 'application/grpc', te: 'trailers' },
        Buffer.concat([frame('hello'), frame('world')]),
        { 'x-client-trailer': 'sent-at-end' },
      );
      expect(reply.headers[':status']).toBe(200);
      expect(reply.headers['content-type']).toBe('application/grpc');
      expect(reply.body.equals(Buffer.concat([frame('hello'), frame('world')]))).toBe(true);
      expect(reply.trailers?.['grpc-status']).toBe('0');
      expect(reply.trailers?.['grpc-message']).toBe('ok');
      expect(reply.trailers?.['x-echo-trailer']).toBe('sent-at-end');
      expect(lastCall!.headers[':path']).toBe('/helloworld.Greeter/SayHello');
      expect(lastCall!.headers[':authority']).toBe('greeter:50051');
      expect(lastCall!.headers.te).toBe('trailers');
      expect(lastCall!.trailers?.['x-client-trailer']).toBe('sent-at-end');
      const log = proxy.logs.find((l) => l.clusterName === 'greeter');
      expect(log?.protocol).toBe('HTTP/2');
    } finally {
      session.close();
    }
  });

  it('keeps a gRPC trailers-only response a single HEADERS frame with END_STREAM', async () => {
    const session = http2.connect(`http://127.0.0.1:${proxy.port}`);
    try {
      const flags = await new Promise<{ headers: http2.IncomingHttpHeaders; flags: number }>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': '/helloworld.Greeter/Missing', ':authority': 'greeter:50051', 'content-type': 'application/grpc', te: 'trailers' });
        stream.on('response', (headers, f) => resolve({ headers, flags: f }));
        stream.on('error', reject);
        stream.resume();
        stream.end(frame('x'));
      });
      expect(flags.headers['grpc-status']).toBe('12');
      expect(flags.flags & http2.constants.NGHTTP2_FLAG_END_STREAM).toBe(http2.constants.NGHTTP2_FLAG_END_STREAM);
    } finally {
      session.close();
    }
  });

  it('multiplexes HTTP/2 requests to an HTTP/1.1 upstream', async () => {
    const session = http2.connect(`http://127.0.0.1:${proxy.port}`);
    try {
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) => h2Call(session, { ':method': 'POST', ':path': `/n/${i}`, ':authority': 'h1' }, Buffer.from('x'.repeat(i)))),
      );
      replies.forEach((r, i) => {
        expect(r.headers[':status']).toBe(200);
        const e = JSON.parse(r.body.toString()) as Echo;
        expect(e.url).toBe(`/n/${i}`);
        expect(e.bodyBytes).toBe(i);
        expect(e.httpVersion).toBe('1.1');
      });
    } finally {
      session.close();
    }
  });

  it('cancels the upstream request when an HTTP/2 client resets its stream', async () => {
    const session = http2.connect(`http://127.0.0.1:${proxy.port}`);
    try {
      const toH1 = session.request({ ':path': '/forever', ':authority': 'hang' });
      toH1.on('error', () => undefined);
      const toH2 = session.request({ ':method': 'POST', ':path': '/helloworld.Greeter/Hang', ':authority': 'greeter:50051' });
      toH2.on('error', () => undefined);
      await eventually(() => activeTo('hang') === 1 && activeTo('greeter') === 1, 3000, 'both requests upstream');
      toH1.close(http2.constants.NGHTTP2_CANCEL);
      toH2.close(http2.constants.NGHTTP2_CANCEL);
      await eventually(() => hangClosed === 1 && h2Cancelled === 1, 3000, 'both upstreams to see the cancel');
      await eventually(() => activeTo('hang') === 0 && activeTo('greeter') === 0, 3000, 'rq_active back to 0');
    } finally {
      session.close();
    }
  });

  it('answers 503 UF when the h2c upstream refuses the connection', async () => {
    const r = await request(proxy.port, '/x', { headers: { host: 'down' } });
    expect(r.status).toBe(503);
    expect(r.body).toContain('connection failure');
    expect(proxy.logs.some((l) => l.clusterName === 'down' && l.responseFlagsString === 'UF')).toBe(true);
  });

  it('sends an HTTP/1.1 client to an h2c upstream', async () => {
    const r = await request(proxy.port, '/helloworld.Greeter/SayHello', {
      method: 'POST',
      headers: { host: 'greeter:50051', 'content-type': 'application/grpc' },
      body: frame('one'),
    });
    expect(r.status).toBe(200);
    expect(Buffer.from(r.body, 'latin1').subarray(5).toString()).toBe('one');
    expect(r.headers['content-type']).toBe('application/grpc');
  });
});
