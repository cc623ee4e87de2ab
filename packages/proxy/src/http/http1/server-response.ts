import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { HeaderMap } from '../../router/header-mutations.js';

/** Told once when the response is over: written whole, or its connection went away first. */
export interface ResponseCloseListener {
  onDownstreamClose(): void;
}

/** What a response needs from its connection. */
export interface ResponseOwner {
  readonly socket: Socket;
  /** The response has been written whole (or the connection is gone). */
  onResponseEnd(res: Http1ServerResponse): void;
}

const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n';
/** Framing and connection headers are the codec's: never copied from what the router hands over. */
const CODEC_HEADERS = new Set(['connection', 'transfer-encoding', 'keep-alive', 'content-length', 'date']);
const LINE_BREAK = /[\r\n]/;

/**
 * An HTTP/1.1 response written straight to the socket: the status line and headers go out in the same write
 * as the first body bytes (or the end), the body is chunked when no length is known (close-delimited for
 * HTTP/1.0 clients), and the events the connection manager listens for are `close` (written, or the connection
 * went away first) and `drain`. Implements the subset of Node's ServerResponse the proxy uses.
 */
export class Http1ServerResponse extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  writableEnded = false;
  /** False: `connection: close` and the connection ends after this response. */
  shouldKeepAlive: boolean;
  /**
   * The stream told when the response is over, called before the `close` event: a field, not a listener,
   * so a request costs no listener registration and removal (the connection manager's own stream uses it).
   */
  closeListener: ResponseCloseListener | null = null;
  private pending: HeaderMap | null = null;
  private trailers: HeaderMap | null = null;
  /** The serialized head, until it rides along with the first write. */
  private head: string | null = null;
  private chunked = false;
  private bodyless = false;
  private gone = false;

  constructor(
    private readonly owner: ResponseOwner,
    private readonly isHeadRequest: boolean,
    keepAlive: boolean,
    private readonly versionMinor: 0 | 1,
  ) {
    super();
    this.shouldKeepAlive = keepAlive;
  }

  setHeader(name: string, value: string | string[]): void {
    (this.pending ??= {})[name] = value;
  }

  writeHead(status: number, headers: HeaderMap): void {
    if (this.headersSent) return;
    this.statusCode = status;
    this.headersSent = true;
    this.bodyless = this.isHeadRequest || status === 204 || status === 304 || (status >= 100 && status < 200);
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    for (const name in headers) {
      if (CODEC_HEADERS.has(name)) continue;
      head += fieldLines(name, headers[name]!);
    }
    head += this.framing(headers);
    this.head = head + CRLF;
  }

  /** Returns false when the socket's buffer is full: wait for `drain`. */
  write(chunk: Buffer): boolean {
    if (this.writableEnded || this.gone) return false;
    if (!this.headersSent) this.writeHead(this.statusCode, this.pending ?? {});
    const socket = this.owner.socket;
    if (this.bodyless || chunk.length === 0) return this.flushHead();
    if (this.head !== null && !this.chunked && chunk.length <= SMALL_BODY) {
      // Head and a small body as one latin1 string (byte for byte): one plain write, no corked writev.
      const ok = socket.write(this.head + chunk.toString('latin1'), 'latin1');
      this.head = null;
      return ok;
    }
    socket.cork();
    if (this.head !== null) {
      socket.write(this.head, 'latin1');
      this.head = null;
    }
    let ok: boolean;
    if (this.chunked) {
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      ok = socket.write(CRLF, 'latin1');
    } else {
      ok = socket.write(chunk);
    }
    socket.uncork();
    return ok;
  }

  end(chunk?: Buffer | string): void {
    if (this.writableEnded) return;
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (!this.headersSent) {
      const headers = this.pending ?? {};
      if (data !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(data.length);
      this.writeHead(this.statusCode, headers);
    }
    this.writableEnded = true;
    // A response whose connection already went away said 'close' then.
    if (!this.gone) {
      this.writeEnd(data);
      this.closed();
    }
    this.owner.onResponseEnd(this);
  }

  addTrailers(trailers: HeaderMap): void {
    this.trailers = trailers;
  }

  destroy(): void {
    this.owner.socket.destroy();
  }

  /** @internal The connection closed before this response was written whole. */
  onConnectionClose(): void {
    if (this.writableEnded || this.gone) return;
    this.gone = true;
    this.closed();
  }

  private closed(): void {
    const listener = this.closeListener;
    this.closeListener = null;
    listener?.onDownstreamClose();
    this.emit('close');
  }

  /** The framing headers: the given length, else chunked (HTTP/1.1) or close-delimited (HTTP/1.0). */
  private framing(headers: HeaderMap): string {
    let out = '';
    const length = headers['content-length'];
    if (length !== undefined) out += `content-length: ${String(length)}\r\n`;
    else if (this.bodyless) {
      // no body, no framing
    } else if (this.versionMinor === 1) {
      this.chunked = true;
      out += 'transfer-encoding: chunked\r\n';
    } else {
      this.shouldKeepAlive = false;
    }
    const date = headers.date;
    out += `date: ${typeof date === 'string' ? date : httpDate()}\r\n`;
    if (!this.shouldKeepAlive) out += 'connection: close\r\n';
    else if (this.versionMinor === 0) out += 'connection: keep-alive\r\n';
    return out;
  }

  private writeEnd(data: Buffer | undefined): void {
    const socket = this.owner.socket;
    socket.cork();
    if (this.head !== null) {
      socket.write(this.head, 'latin1');
      this.head = null;
    }
    if (!this.bodyless) {
      if (data !== undefined && data.length > 0) {
        if (this.chunked) socket.write(`${data.length.toString(16)}\r\n`, 'latin1');
        socket.write(data);
        if (this.chunked) socket.write(CRLF, 'latin1');
      }
      if (this.chunked) socket.write(this.lastChunk(), 'latin1');
    }
    socket.uncork();
  }

  private lastChunk(): string {
    let out = LAST_CHUNK;
    const t = this.trailers;
    if (t !== null) for (const name in t) if (!CODEC_HEADERS.has(name)) out += fieldLines(name, t[name]!);
    return out + CRLF;
  }

  private flushHead(): boolean {
    if (this.head === null) return true;
    const ok = this.owner.socket.write(this.head, 'latin1');
    this.head = null;
    return ok;
  }
}

/** Bodies up to this size go out in the same write as the head. */
export const SMALL_BODY = 2048;

/** `name: value\r\n` per value; a value with a line break would inject headers, so it is left out. */
function fieldLines(name: string, value: string | string[]): string {
  if (typeof value === 'string') return LINE_BREAK.test(value) ? '' : `${name}: ${value}\r\n`;
  let out = '';
  for (const v of value) if (!LINE_BREAK.test(v)) out += `${name}: ${v}\r\n`;
  return out;
}

let cachedDate = '';
let cachedSecond = 0;

/** The Date header value, formatted once per second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedDate = new Date(now).toUTCString();
  }
  return cachedDate;
}
