import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Http1ServerConnection, type Http1Handlers } from '../../src/http/http1/server-connection.js';
import type { Http1ServerRequest } from '../../src/http/http1/server-request.js';
import type { Http1ServerResponse } from '../../src/http/http1/server-response.js';

// The codec alone on a real socket: handlers answer as a tiny app would, so framing can be checked byte for byte.

type Handler = (req: Http1ServerRequest, res: Http1ServerResponse) => void;
let handler: Handler = () => {};
const codecErrors: number[] = [];
let server: net.Server;
let port = 0;
const clock = { tick: 0 };

beforeAll(async () => {
  const handlers: Http1Handlers = {
    onRequest: (req, res) => handler(req, res),
    onUpgrade: (_req, socket, head) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n');
      socket.write(head);
      socket.pipe(socket);
    },
    onCodecError: (status) => codecErrors.push(status),
  };
  server = net.createServer((socket) => {
    socket.on('error', () => {});
    new Http1ServerConnection(socket, handlers, clock);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** Sends raw bytes, collects everything until the server closes or `idleMs` of silence. */
function exchange(wire: string | string[], idleMs = 150): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    let timer: NodeJS.Timeout;
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closed });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(done, idleMs);
    };
    s.on('data', (d) => {
      text += d.toString('latin1');
      arm();
    });
    s.on('end', () => {
      closed = true;
      done();
    });
    s.on('error', done);
    const parts = Array.isArray(wire) ? wire : [wire];
    let i = 0;
    const next = () => {
      if (i < parts.length) s.write(parts[i++]!, 'latin1', () => setTimeout(next, 20));
    };
    s.on('connect', next);
    arm();
  });
}

const statusLines = (text: string) => text.match(/HTTP\/1\.1 \d+ [A-Za-z ]+/g) ?? [];

describe('HTTP/1 server connection', () => {
  it('answers pipelined requests in order, even when the first answers last', async () => {
    handler = (req, res) => {
      const delay = req.url === '/slow' ? 60 : 0;
      setTimeout(() => res.end(Buffer.from(req.url)), delay);
    };
    const r = await exchange('GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /fast HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(r.text.indexOf('/slow')).toBeGreaterThan(0);
    expect(r.text.indexOf('/fast')).toBeGreaterThan(r.text.indexOf('/slow'));
    expect(statusLines(r.text)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    expect(r.closed).toBe(false);
  });

  it('frames a response without a length as chunked, with trailers, and none for HEAD or 204', async () => {
    handler = (req, res) => {
      if (req.url === '/204') return res.end();
      res.writeHead(req.url === '/204' ? 204 : 200, { 'x-a': 'b' });
      res.write(Buffer.from('hello'));
      res.addTrailers({ 'x-trailer': 't' });
      res.end();
    };
    const get = await exchange('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(get.text).toMatch(/^HTTP\/1\.1 200 OK\r\nx-a: b\r\ntransfer-encoding: chunked\r\ndate: [^\r]+\r\n\r\n5\r\nhello\r\n0\r\nx-trailer: t\r\n\r\n$/);
    const head = await exchange('HEAD / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(head.text).not.toContain('hello');
    expect(head.text).not.toContain('transfer-encoding');
    // A small sized body leaves in one write with its head, byte for byte.
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': '4' });
      res.write(Buffer.from([0, 128, 255, 10]));
      res.end();
    };
    const binary = await exchange('GET /bin HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(binary.text.endsWith('\r\n\r\n\x00\x80\xff\n')).toBe(true);
  });

  it('closes after an HTTP/1.0 response with no length (close-delimited) and after Connection: close', async () => {
    handler = (_req, res) => {
      res.writeHead(200, {});
      res.end(Buffer.from('body'));
    };
    const old = await exchange('GET / HTTP/1.0\r\n\r\n');
    expect(old.text).toContain('connection: close\r\n');
    expect(old.text.endsWith('\r\n\r\nbody')).toBe(true);
    expect(old.closed).toBe(true);
    const close = await exchange('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(close.closed).toBe(true);
    expect(close.text).toContain('connection: close');
  });

  it('sends 100 Continue before reading the body, then streams chunked and sized bodies into the request', async () => {
    handler = (req, res) => {
      const parts: Buffer[] = [];
      req.body!.on('data', (c: Buffer) => parts.push(c));
      req.body!.on('end', () => res.end(Buffer.from(`${Buffer.concat(parts).toString()}|${JSON.stringify(req.body!.trailers ?? {})}`)));
    };
    const sized = await exchange(['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nExpect: 100-continue\r\n\r\n', 'abc', 'def']);
    expect(sized.text.startsWith('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK')).toBe(true);
    expect(sized.text).toContain('abcdef|{}');
    const chunked = await exchange(['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc', '\r\n2\r\nde\r\n0\r\nx-t: 1\r\n\r\n']);
    expect(chunked.text).toContain('abcde|{"x-t":"1"}');
  });


  it('hands a body that came with its head over whole (still readable as a stream), and streams one that comes later', async () => {
    const seen: string[] = [];
    handler = (req, res) => {
      const whole = req.body!.wholeBody;
      seen.push(whole === null ? 'streamed' : `whole ${whole.toString()}`);
      const parts: Buffer[] = [];
      req.body!.on('data', (c: Buffer) => parts.push(c));
      req.body!.on('end', () => res.end(Buffer.from(`${Buffer.concat(parts).toString()}|${req.body!.bytesReceived}`)));
    };
    // Two pipelined POSTs in one packet: each body is whole; the bytes after the first belong to the second.
    const both = await exchange('POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nde');
    expect(both.text.match(/abc\|3|de\|2/g)).toEqual(['abc|3', 'de|2']);
    expect(seen.splice(0)).toEqual(['whole abc', 'whole de']);
    const later = await exchange(['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nabc', 'def']);
    expect(later.text).toContain('abcdef|6');
    expect(seen).toEqual(['streamed']);
  });
  it('answers 400 / 431 / 501 and closes on requests it refuses', async () => {
    handler = (_req, res) => res.end(Buffer.from('ok'));
    codecErrors.length = 0;
    const bad = await exchange('GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n');
    expect(bad.text.startsWith('HTTP/1.1 400 Bad Request')).toBe(true);
    expect(bad.closed).toBe(true);
    const big = await exchange(`GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(70_000)}\r\n\r\n`);
    expect(big.text.startsWith('HTTP/1.1 431')).toBe(true);
    const te = await exchange('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n');
    expect(te.text.startsWith('HTTP/1.1 501')).toBe(true);
    expect(codecErrors).toEqual([400, 431, 501]);
    // the server is still fine
    expect((await exchange('GET / HTTP/1.1\r\nHost: a\r\n\r\n')).text).toContain('ok');
  });

  it('hands an upgrade over with the bytes read past the head', async () => {
    const r = await exchange('GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly-bytes');
    expect(r.text.startsWith('HTTP/1.1 101')).toBe(true);
    expect(r.text).toContain('early-bytes');
  });

  it('tells the response when the client goes away before it is written', async () => {
    let sawClose: boolean | undefined;
    handler = (_req, res) => {
      res.once('close', () => (sawClose = res.writableEnded));
    };
    await exchange('GET / HTTP/1.1\r\nHost: a\r\n\r\n', 50);
    await new Promise((r) => setTimeout(r, 50));
    expect(sawClose).toBe(false);
  });
});
