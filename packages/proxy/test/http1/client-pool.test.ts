import net from 'node:net';
import { Readable } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Http1Pool } from '../../src/upstream/http1-pool.js';
import { defaultPoolSettings } from '../../src/upstream/pool-settings.js';
import type { ResetReason, UpstreamRequestSpec } from '../../src/upstream/connection-pool.js';
import { parseResponseHead } from '../../src/upstream/http1/response-parser.js';

// The upstream HTTP/1.1 client (Http1Pool over Http1ClientConnection) against raw TCP servers on 127.0.232.x that
// answer byte for byte as the test says, so framing, reuse and failures can be checked exactly.

const IP = '127.0.232.1';

interface Result {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  trailers: IncomingHttpHeaders | null;
  error?: ResetReason;
}

/** A server whose connections are handed to `onConn`; every request head it reads is recorded. */
async function rawServer(onConn: (s: net.Socket, heads: string[]) => void): Promise<{ port: number; heads: string[]; conns: () => number; close: () => Promise<void> }> {
  const heads: string[] = [];
  let conns = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    conns++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    onConn(s, heads);
  });
  await new Promise<void>((r) => server.listen(0, IP, r));
  return {
    port: (server.address() as net.AddressInfo).port,
    heads,
    conns: () => conns,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Answers each request (read up to its blank line, plus `bodyBytes` of body) with `reply(head)`. */
function answering(reply: (head: string, body: string) => string | null, bodyUntil?: (text: string) => number) {
  return (s: net.Socket, heads: string[]) => {
    let text = '';
    s.on('data', (d) => {
      text += d.toString('latin1');
      for (;;) {
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return;
        const bodyEnd = bodyUntil ? bodyUntil(text.slice(end + 4)) : 0;
        if (bodyEnd < 0) return;
        const head = text.slice(0, end);
        const body = text.slice(end + 4, end + 4 + bodyEnd);
        text = text.slice(end + 4 + bodyEnd);
        heads.push(head);
        const out = reply(head, body);
        if (out === null) return;
        s.write(out, 'latin1');
      }
    });
  };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

function pool(port: number, tweak: Partial<ReturnType<typeof defaultPoolSettings>> = {}): Http1Pool {
  const p = new Http1Pool(`http://${IP}:${port}`, { ...defaultPoolSettings(1000), ...tweak });
  closers.push(async () => p.destroy());
  return p;
}

function request(p: Http1Pool, spec: Partial<UpstreamRequestSpec> = {}): Promise<Result> {
  return new Promise((resolve) => {
    const r: Result = { status: 0, headers: {}, body: '', trailers: null };
    p.newStream(
      { method: 'GET', path: '/', authority: 'svc', headers: {}, body: null, ...spec },
      {
        onUpstreamHeaders: (status, headers) => Object.assign(r, { status, headers }),
        onUpstreamData: (chunk) => {
          r.body += chunk.toString('latin1');
          return true;
        },
        onUpstreamEnd: (trailers) => resolve({ ...r, trailers }),
        onUpstreamError: (reason) => resolve({ ...r, error: reason }),
      },
    );
  });
}

const ok = (body: string, extra = '') => `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`;

describe('parseResponseHead', () => {
  it('frames bodies as RFC 9112 §6.3 says for responses', () => {
    expect(parseResponseHead('HTTP/1.1 200 OK\r\ncontent-length: 5', false).framing).toEqual({ kind: 'length', length: 5 });
    expect(parseResponseHead('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked', false).framing).toEqual({ kind: 'chunked' });
    expect(parseResponseHead('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip', false).framing).toEqual({ kind: 'close' });
    expect(parseResponseHead('HTTP/1.1 200 OK', false)).toMatchObject({ framing: { kind: 'close' }, keepAlive: false });
    expect(parseResponseHead('HTTP/1.1 204 No Content\r\ncontent-length: 5', false).framing).toEqual({ kind: 'none' });
    expect(parseResponseHead('HTTP/1.1 304 Not Modified', false)).toMatchObject({ framing: { kind: 'none' }, keepAlive: true });
    expect(parseResponseHead('HTTP/1.1 200 OK\r\ncontent-length: 5', true).framing).toEqual({ kind: 'none' });
    // Both framings: chunked wins and the connection isn't reused (a smuggling tell).
    expect(parseResponseHead('HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked', false)).toMatchObject({ framing: { kind: 'chunked' }, keepAlive: false });
  });

  it('reads persistence and the Keep-Alive hint; refuses what is not HTTP/1.x', () => {
    expect(parseResponseHead('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0', false).keepAlive).toBe(false);
    expect(parseResponseHead('HTTP/1.0 200 OK\r\ncontent-length: 0', false).keepAlive).toBe(false);
    expect(parseResponseHead('HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0', false).keepAlive).toBe(true);
    expect(parseResponseHead('HTTP/1.1 200 OK\r\nkeep-alive: timeout=5, max=100\r\ncontent-length: 0', false).keepAliveHintMs).toBe(5000);
    expect(parseResponseHead('HTTP/1.1 200\r\ncontent-length: 0', false).status).toBe(200);
    expect(() => parseResponseHead('HTTP/2 200 OK', false)).toThrow('malformed status line');
    expect(() => parseResponseHead('HTTP/1.1 20 OK', false)).toThrow('malformed status line');
    expect(() => parseResponseHead('HTTP/1.1 200 OK\r\ncontent-length: x', false)).toThrow('invalid content-length');
    expect(() => parseResponseHead('HTTP/1.1 200 OK\r\nbad header', false)).toThrow('malformed header line');
  });
});

describe('Http1Pool (own HTTP/1.1 client)', () => {
  it('writes the request head with Host from the authority, and reuses one keep-alive connection', async () => {
    const srv = await rawServer(answering(() => ok('hi')));
    closers.push(srv.close);
    const p = pool(srv.port);
    for (let i = 0; i < 3; i++) expect(await request(p, { path: `/x?i=${i}`, headers: { 'x-a': 'b', 'set-x': ['1', '2'] } })).toMatchObject({ status: 200, body: 'hi', trailers: null });
    expect(srv.conns()).toBe(1);
    expect(srv.heads[2]).toBe('GET /x?i=2 HTTP/1.1\r\nhost: svc\r\nx-a: b\r\nset-x: 1\r\nset-x: 2');
    expect(p.stats()).toMatchObject({ cxActive: 1, cxTotal: 1, cxConnectFail: 0 });
  });

  it('decodes a chunked response split across packets, with trailers; a head split byte by byte', async () => {
    // One byte at a time for the first 40 bytes of the head, then the rest at once.
    const wire = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: grpc-status\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\ngrpc-status: 0\r\n\r\n';
    const srv2 = await rawServer((s) =>
      s.once('data', async () => {
        for (const ch of wire.slice(0, 40)) {
          s.write(ch);
          await new Promise((r) => setImmediate(r));
        }
        s.write(wire.slice(40));
      }),
    );
    closers.push(srv2.close);
    const r = await request(pool(srv2.port));
    expect(r).toMatchObject({ status: 200, body: 'hello world', trailers: { 'grpc-status': '0' } });
  });

  it('hands over body slices that stay intact after later reads (plaintext reads share one buffer)', async () => {
    // Five reads of different bytes; the callbacks keep every chunk and read them only at the end, as a
    // queued downstream write or a retry buffer would.
    const parts = ['a', 'b', 'c', 'd', 'e'].map((ch) => ch.repeat(1000));
    const srv = await rawServer((s) =>
      s.once('data', async () => {
        s.setNoDelay(true);
        s.write(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n`);
        for (const part of parts) {
          await new Promise((r) => setTimeout(r, 5));
          s.write(`${part.length.toString(16)}\r\n${part}\r\n`);
        }
        s.write('0\r\n\r\n');
      }),
    );
    closers.push(srv.close);
    const kept: Buffer[] = [];
    const body = await new Promise<string>((resolve, reject) => {
      pool(srv.port).newStream(
        { method: 'GET', path: '/', authority: 'svc', headers: {}, body: null },
        {
          onUpstreamHeaders: () => {},
          onUpstreamData: (chunk) => kept.push(chunk) > 0,
          onUpstreamEnd: () => resolve(Buffer.concat(kept).toString('latin1')),
          onUpstreamError: (reason) => reject(new Error(reason)),
        },
      );
    });
    expect(body).toBe(parts.join(''));
  });

  it('decodes a chunked body whose size lines, CRLFs and trailers arrive a byte at a time', async () => {
    const head = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n';
    const body = '5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nx-t: 1\r\n\r\n';
    const srv = await rawServer((s) =>
      s.on('data', async () => {
        s.setNoDelay(true);
        s.write(head);
        for (const ch of body) {
          await new Promise((r) => setTimeout(r, 1));
          s.write(ch);
        }
      }),
    );
    closers.push(srv.close);
    const p = pool(srv.port);
    expect(await request(p)).toMatchObject({ status: 200, body: 'hello world', trailers: { 'x-t': '1' } });
    // The connection stays usable: nothing was left half-read.
    expect(await request(p)).toMatchObject({ status: 200, body: 'hello world' });
    expect(srv.conns()).toBe(1);
  });

  it('skips 1xx interim responses; HEAD and 204 answers carry no body and keep the connection', async () => {
    const srv = await rawServer(
      answering((head) =>
        head.startsWith('HEAD') ? 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n' : head.includes('/none') ? 'HTTP/1.1 204 No Content\r\n\r\n' : `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n${ok('done')}`,
      ),
    );
    closers.push(srv.close);
    const p = pool(srv.port);
    expect(await request(p)).toMatchObject({ status: 200, body: 'done' });
    expect(await request(p, { method: 'HEAD' })).toMatchObject({ status: 200, body: '', headers: { 'content-length': '100' } });
    expect(await request(p, { path: '/none' })).toMatchObject({ status: 204, body: '' });
    expect(srv.conns()).toBe(1);
  });

  it('reads a body that runs to the close, then opens a new connection', async () => {
    // The server ends each connection after answering.
    const srv2 = await rawServer((s, heads) =>
      answering(() => {
        setTimeout(() => s.end(), 20);
        return 'HTTP/1.1 200 OK\r\n\r\nuntil the end';
      })(s, heads),
    );
    closers.push(srv2.close);
    const p = pool(srv2.port);
    expect(await request(p)).toMatchObject({ status: 200, body: 'until the end' });
    expect(await request(p)).toMatchObject({ status: 200, body: 'until the end' });
    expect(srv2.conns()).toBe(2);
  });

  it('honours connection: close and max_requests_per_connection (sending connection: close on the last one)', async () => {
    const srv = await rawServer(answering((head) => ok('x', head.includes('/bye') ? 'connection: close\r\n' : '')));
    closers.push(srv.close);
    const p = pool(srv.port, { maxRequestsPerConnection: 2 });
    await request(p);
    await request(p);
    expect(srv.heads[1]).toContain('connection: close');
    await request(p, { path: '/bye' });
    await request(p);
    expect(srv.conns()).toBe(3);
    expect(srv.heads[0]).not.toContain('connection:');
  });

  it('streams a body of unknown length chunked, and a known length as is; a bodiless POST says content-length: 0; a Buffer goes whole', async () => {
    const untilEnd = (rest: string) => {
      if (rest.startsWith('3\r\n')) return rest.indexOf('0\r\n\r\n') < 0 ? -1 : rest.indexOf('0\r\n\r\n') + 5;
      return rest.length >= 5 ? 5 : 0;
    };
    const srv = await rawServer(answering((_h, body) => ok(`got ${JSON.stringify(body)}`), untilEnd));
    closers.push(srv.close);
    const p = pool(srv.port);
    const chunked = await request(p, { method: 'POST', body: Readable.from([Buffer.from('abc'), Buffer.from('de')]) });
    expect(chunked.body).toBe('got "3\\r\\nabc\\r\\n2\\r\\nde\\r\\n0\\r\\n\\r\\n"');
    expect(srv.heads[0]).toContain('transfer-encoding: chunked');
    const sized = await request(p, { method: 'PUT', headers: { 'content-length': '5' }, body: Readable.from([Buffer.from('hello')]) });
    expect(sized.body).toBe('got "hello"');
    expect(srv.heads[1]).not.toContain('transfer-encoding');
    await request(p, { method: 'POST' });
    expect(srv.heads[2]).toContain('content-length: 0');
    // A body whole in memory (retries and mirrors resend the same buffer): sized, sent with its head.
    const whole = await request(p, { method: 'POST', body: Buffer.from('howdy') });
    expect(whole.body).toBe('got "howdy"');
    expect(srv.heads[3]).toContain('content-length: 5');
    // Every byte value survives the single write of head and small body.
    const bytes = Buffer.from(Array.from({ length: 5 }, (_, i) => [0, 127, 128, 200, 255][i]!));
    const binary = await request(p, { method: 'POST', body: bytes });
    expect(Buffer.from(JSON.parse(binary.body.slice(4)) as string, 'latin1')).toEqual(bytes);
    expect(srv.conns()).toBe(1);
  });

  it('tells a refused connection (connection_failure, counted) from one closed mid-response (connection_termination)', async () => {
    const closed = await rawServer((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf')));
    closers.push(closed.close);
    expect(await request(pool(closed.port))).toMatchObject({ status: 200, body: 'half', error: 'connection_termination' });
    const gone = await rawServer(() => {});
    const port = gone.port;
    await gone.close();
    const p = pool(port);
    expect((await request(p)).error).toBe('connection_failure');
    expect(p.stats().cxConnectFail).toBe(1);
  });

  it('drops a connection that sends bytes nobody asked for, or a malformed response', async () => {
    const srv = await rawServer(answering((head) => (head.includes('/bad') ? 'HTTP/9 OK\r\n\r\n' : ok('a') + 'junk')));
    closers.push(srv.close);
    const p = pool(srv.port);
    expect(await request(p)).toMatchObject({ status: 200, body: 'a' });
    // The junk after the response made the connection untrustworthy: the next request gets a fresh one.
    expect(await request(p)).toMatchObject({ status: 200, body: 'a' });
    expect(srv.conns()).toBe(2);
    expect((await request(p, { path: '/bad' })).error).toBe('connection_termination');
  });

  it('closes idle connections after the idle timeout, and sooner when the server hints a shorter Keep-Alive', async () => {
    const srv = await rawServer(answering((head) => ok('k', head.includes('/hint') ? 'keep-alive: timeout=1\r\n' : '')));
    closers.push(srv.close);
    const p = pool(srv.port, { idleTimeoutMs: 80 });
    await request(p);
    expect(p.stats().cxActive).toBe(1);
    await new Promise((r) => setTimeout(r, 150));
    expect(p.stats().cxActive).toBe(0);
    // A 1 s hint leaves no safe idle time at all (hint less a second): not reused.
    await request(p, { path: '/hint' });
    await request(p, { path: '/hint' });
    expect(srv.conns()).toBe(3);
  });

  it('aborting a request resets its connection; resume() after backpressure continues the body', async () => {
    const big = 'x'.repeat(256 * 1024);
    const srv = await rawServer(answering((head) => (head.includes('/slow') ? null : ok(big))));
    closers.push(srv.close);
    const p = pool(srv.port);
    let received = 0;
    let paused = false;
    const done = new Promise<number>((resolve) => {
      const s = p.newStream(
        { method: 'GET', path: '/', authority: 'svc', headers: {}, body: null },
        {
          onUpstreamHeaders: () => {},
          onUpstreamData: (chunk) => {
            received += chunk.length;
            if (paused) return true;
            paused = true;
            setTimeout(() => s.resume(), 30);
            return false;
          },
          onUpstreamEnd: () => resolve(received),
          onUpstreamError: () => resolve(-1),
        },
      );
    });
    expect(await done).toBe(big.length);
    const calls: string[] = [];
    const s = p.newStream(
      { method: 'GET', path: '/slow', authority: 'svc', headers: {}, body: null },
      { onUpstreamHeaders: () => calls.push('h'), onUpstreamData: () => true, onUpstreamEnd: () => calls.push('end'), onUpstreamError: () => calls.push('err') },
    );
    await new Promise((r) => setTimeout(r, 30));
    s.abort();
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toEqual([]);
    expect(p.stats().cxActive).toBe(0);
  });
});
