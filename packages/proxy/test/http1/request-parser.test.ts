import { describe, expect, it } from 'vitest';
import { BodyDecoder } from '../../src/http/http1/body-decoder.js';
import { CodecError, parseRequestHead } from '../../src/http/http1/request-parser.js';

function refused(head: string): number {
  try {
    parseRequestHead(head);
  } catch (err) {
    if (err instanceof CodecError) return err.status;
    throw err;
  }
  return 0;
}

describe('HTTP/1 request head parser', () => {
  it('reads the request line and folds headers as Node does', () => {
    const h = parseRequestHead(
      'GET /a?b=1 HTTP/1.1\r\nHost: svc:80\r\nX-A: 1\r\nx-a: 2\r\nCookie: a=1\r\ncookie: b=2\r\nSet-Cookie: s=1\r\nset-cookie: t=2\r\nX-Space:   v  ',
    );
    expect(h).toMatchObject({ method: 'GET', target: '/a?b=1', versionMinor: 1, keepAlive: true, upgrade: false, expectContinue: false });
    expect(h.headers).toEqual({ host: 'svc:80', 'x-a': '1, 2', cookie: 'a=1; b=2', 'set-cookie': ['s=1', 't=2'], 'x-space': 'v' });
    expect(h.framing).toEqual({ kind: 'none' });
  });

  it('knows keep-alive, close, upgrade and 100-continue', () => {
    expect(parseRequestHead('GET / HTTP/1.0\r\nHost: a').keepAlive).toBe(false);
    expect(parseRequestHead('GET / HTTP/1.0\r\nHost: a\r\nConnection: Keep-Alive').keepAlive).toBe(true);
    expect(parseRequestHead('GET / HTTP/1.1\r\nHost: a\r\nConnection: close').keepAlive).toBe(false);
    expect(parseRequestHead('GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket').upgrade).toBe(true);
    expect(parseRequestHead('GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket').upgrade).toBe(false);
    const post = parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\nExpect: 100-Continue');
    expect(post.framing).toEqual({ kind: 'length', length: 12 });
    expect(post.expectContinue).toBe(true);
    expect(parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked').framing).toEqual({ kind: 'chunked' });
  });

  it('refuses what could smuggle a request or is not HTTP/1', () => {
    expect(refused('GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked')).toBe(400);
    expect(refused('GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4')).toBe(400);
    expect(refused('GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3x')).toBe(400);
    expect(refused('GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1')).toBe(400);
    expect(refused('GET / HTTP/1.1\r\nHost: a\r\nHost: b')).toBe(400);
    expect(refused('GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked')).toBe(501);
    expect(refused('GET / HTTP/1.1\r\nHost: a\r\n folded: line')).toBe(400);
    expect(refused('GET / HTTP/1.1\r\nBad Name: x')).toBe(400);
    expect(refused('GET / HTTP/1.1\r\nX: a\nb')).toBe(400);
    expect(refused('GET / HTTP/1.1\r\nX: a\0b')).toBe(400);
    expect(refused('GET /a b HTTP/1.1')).toBe(400);
    expect(refused('GET / HTTP/2.0')).toBe(505);
    expect(refused('GET / FOO')).toBe(400);
    expect(refused('G@T / HTTP/1.1')).toBe(400);
    expect(refused('GET / HTTP/1.1\r\nnocolon')).toBe(400);
    // a repeated, identical content-length is allowed (RFC 9110 §8.6)
    expect(parseRequestHead('POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3').framing).toEqual({ kind: 'length', length: 3 });
  });
});

describe('HTTP/1 body decoder', () => {
  function decodeInPieces(framing: ConstructorParameters<typeof BodyDecoder>[0], wire: string, pieceSize: number) {
    const data: Buffer[] = [];
    let trailers: unknown = 'not ended';
    const d = new BodyDecoder(framing, { onBodyData: (c) => data.push(Buffer.from(c)), onBodyEnd: (t) => (trailers = t) });
    const bytes = Buffer.from(wire, 'latin1');
    let pending = Buffer.alloc(0);
    let used = 0;
    for (let i = 0; i < bytes.length; i += pieceSize) {
      pending = Buffer.concat([pending, bytes.subarray(i, i + pieceSize)]);
      const n = d.decode(pending, 0);
      used += n;
      pending = pending.subarray(n);
    }
    return { body: Buffer.concat(data).toString('latin1'), trailers, complete: d.complete, used, rest: pending.toString('latin1') };
  }

  it('decodes chunked bodies in any split, with extensions and trailers, and stops at the body end', () => {
    const wire = '5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Sum: 42\r\nx-more: y\r\n\r\nGET /next';
    for (const piece of [1, 2, 3, 7, 64, 1000]) {
      const r = decodeInPieces({ kind: 'chunked' }, wire, piece);
      expect(r.body).toBe('helloabcdefghijklmnopqrstuvwxyz');
      expect(r.trailers).toEqual({ 'x-sum': '42', 'x-more': 'y' });
      expect(r.complete).toBe(true);
      expect(r.rest).toBe('GET /next');
    }
    expect(decodeInPieces({ kind: 'chunked' }, '3\r\nabc\r\n0\r\n\r\n', 2)).toMatchObject({ body: 'abc', trailers: null, complete: true });
  });

  it('takes exactly content-length bytes', () => {
    const r = decodeInPieces({ kind: 'length', length: 4 }, 'abcdGET', 3);
    expect(r).toMatchObject({ body: 'abcd', complete: true, rest: 'GET' });
  });

  it('refuses broken chunk framing', () => {
    const d = () => new BodyDecoder({ kind: 'chunked' }, { onBodyData: () => {}, onBodyEnd: () => {} });
    expect(() => d().decode(Buffer.from('zz\r\n'), 0)).toThrow(CodecError);
    expect(() => d().decode(Buffer.from('3\r\nabcXY'), 0)).toThrow(CodecError);
    expect(() => d().decode(Buffer.from('fffffffffffffff\r\n'), 0)).toThrow(CodecError);
  });
});
