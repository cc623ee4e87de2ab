import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResponseFlag } from '../../src/http/stream-info.js';
import { eventually, rawExchange, startSidecar, type RunningSidecar } from './helpers/client.js';
import { cla, edsCluster, listener, routeConfig, snapshot, toCluster, vhost } from './helpers/resources.js';
import { echoServer, type Echo, type TestServer } from './helpers/servers.js';

let echo: TestServer;
let ws: TestServer & { server: http.Server };
let hang: TestServer;
let hangClosed = 0;
let hangStarted = 0;
let proxy: RunningSidecar;

beforeAll(async () => {
  echo = await echoServer('echo');
  // A WebSocket-ish upstream: accepts the upgrade, then echoes every byte back upper-cased.
  ws = await echoServer('ws');
  ws.server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const accept = crypto.createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\nx-path: ${req.url}\r\n\r\n`);
    if (head.length) socket.write(head.toString().toUpperCase());
    socket.on('data', (d) => socket.write(d.toString().toUpperCase()));
    socket.on('end', () => socket.end());
  });
  hang = await echoServer('hang', (req) => {
    hangStarted++;
    req.on('close', () => hangClosed++);
  });
  proxy = await startSidecar(
    snapshot({
      listeners: [listener('virtualOutbound', 15001, 'r')],
      routes: [
        routeConfig('r', [
          vhost('echo', ['echo'], [toCluster({ prefix: '/' }, 'echo')]),
          vhost('ws', ['ws'], [toCluster({ prefix: '/' }, 'ws')]),
          vhost('nows', ['nows'], [toCluster({ prefix: '/' }, 'ws', { upgrade_configs: [{ upgrade_type: 'websocket', enabled: { value: false } }] })]),
          vhost('hang', ['hang'], [toCluster({ prefix: '/' }, 'hang')]),
        ]),
      ],
      clusters: [edsCluster('echo'), edsCluster('ws'), edsCluster('hang')],
      endpoints: [cla('echo', [{ port: echo.port }]), cla('ws', [{ port: ws.port }]), cla('hang', [{ port: hang.port }])],
    }),
  );
});

afterAll(async () => {
  await proxy.close();
  await Promise.all([echo, ws, hang].map((s) => s.close()));
});

/** Splits a raw HTTP/1.1 byte stream into responses (content-length framed). */
function parseResponses(raw: string): { status: number; headers: Record<string, string>; body: string }[] {
  const out = [];
  let rest = raw;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
    const len = Number(headers['content-length'] ?? 0);
    out.push({ status: Number(statusLine!.split(' ')[1]), headers, body: rest.slice(end + 4, end + 4 + len) });
    rest = rest.slice(end + 4 + len);
  }
  return out;
}

describe('HTTP/1.1 downstream', () => {
  it('answers keep-alive pipelined requests in order on one connection', async () => {
    const reqs = ['/one', '/two', '/three', '/four']
      .map((p, i) => `${i % 2 ? 'POST' : 'GET'} ${p} HTTP/1.1\r\nHost: echo\r\n${i % 2 ? 'Content-Length: 5\r\n\r\nhello' : '\r\n'}`)
      .join('');
    const raw = await rawExchange(proxy.port, `${reqs}GET /last HTTP/1.1\r\nHost: echo\r\nConnection: close\r\n\r\n`);
    const responses = parseResponses(raw);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const seen = responses.map((r) => JSON.parse(r.body) as Echo);
    expect(seen.map((e) => e.url)).toEqual(['/one', '/two', '/three', '/four', '/last']);
    expect(seen.map((e) => e.bodyBytes)).toEqual([0, 5, 0, 5, 0]);
  });

  it('streams chunked and content-length uploads', async () => {
    // The second chunk comes later, so the upstream request can only be streamed (chunked) too.
    const s = net.connect(proxy.port, '127.0.0.1');
    let chunked = '';
    s.on('data', (d) => (chunked += d.toString()));
    s.write('POST /up HTTP/1.1\r\nHost: echo\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n');
    await new Promise((r) => setTimeout(r, 100));
    s.write('6\r\n world\r\n0\r\n\r\n');
    await new Promise((r) => s.on('close', r));
    const c = parseResponses(chunked)[0]!;
    expect(c.status).toBe(200);
    const ce = JSON.parse(c.body) as Echo;
    expect(ce.bodyBytes).toBe(11);
    expect(ce.headers['transfer-encoding']).toBe('chunked');
    const body = 'x'.repeat(100_000);
    const fixed = await rawExchange(proxy.port, `PUT /up HTTP/1.1\r\nHost: echo\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    const fe = JSON.parse(parseResponses(fixed)[0]!.body) as Echo;
    expect(fe.bodyBytes).toBe(100_000);
    expect(fe.headers['content-length']).toBe('100000');
  });

  it('answers Expect: 100-continue before the body is sent, and does not forward the expectation', async () => {
    const s = net.connect(proxy.port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    s.write('POST /expect HTTP/1.1\r\nHost: echo\r\nContent-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
    await eventually(() => got.includes('100 Continue'), 3000, '100 Continue');
    expect(got.startsWith('HTTP/1.1 100 Continue')).toBe(true);
    s.write('data');
    await new Promise((r) => s.on('close', r));
    const final = got.slice(got.indexOf('HTTP/1.1 200'));
    const e = JSON.parse(parseResponses(final)[0]!.body) as Echo;
    expect(e.bodyBytes).toBe(4);
    expect(e.headers.expect).toBeUndefined();
  });

  it('passes a WebSocket upgrade through and splices bytes both ways', async () => {
    const s = net.connect(proxy.port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    s.write(
      'GET /chat HTTP/1.1\r\nHost: ws\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\nfirst',
    );
    await eventually(() => got.includes('\r\n\r\n') && got.endsWith('FIRST'), 3000, 'the 101 and the echoed head').catch((e) => {
      throw new Error(`${(e as Error).message}; got ${JSON.stringify(got)}`);
    });
    expect(got.startsWith('HTTP/1.1 101')).toBe(true);
    expect(got).toContain('sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(got).toContain('x-path: /chat');
    s.write('ping');
    await eventually(() => got.endsWith('PING'), 3000, 'the echoed frame');
    s.end();
    await new Promise((r) => s.on('close', r));
    await eventually(() => proxy.logs.some((l) => l.virtualHostName === 'ws' && l.responseCode === 101), 3000, 'the access log');
  });

  it('refuses an upgrade the route disables with 403', async () => {
    const out = await rawExchange(
      proxy.port,
      'GET /chat HTTP/1.1\r\nHost: nows\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    expect(out.startsWith('HTTP/1.1 403')).toBe(true);
  });

  it('cancels the upstream request when the client goes away', async () => {
    const closedBefore = hangClosed;
    const s = net.connect(proxy.port, '127.0.0.1');
    s.write('GET /forever HTTP/1.1\r\nHost: hang\r\n\r\n');
    await eventually(() => hangStarted > 0, 3000, 'the upstream to get the request');
    s.destroy();
    await eventually(() => hangClosed > closedBefore, 3000, 'the upstream to see the request closed');
    await eventually(() => proxy.logs.some((l) => l.virtualHostName === 'hang' && l.hasFlag(ResponseFlag.DC)), 3000, 'a DC access log');
    expect(proxy.sidecar.current.clusters.get('hang')!.hosts.allHosts[0]!.stats.rqActive).toBe(0);
  });
});
