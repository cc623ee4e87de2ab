import type { IncomingHttpHeaders } from 'node:http';
import net, { type Socket } from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';
import { BodyDecoder, type BodySink } from '../../http/http1/body-decoder.js';
import { MAX_HEAD_BYTES } from '../../http/http1/request-parser.js';
import { SMALL_BODY } from '../../http/http1/server-response.js';
import type { RequestBody, ResetReason, UpstreamCallbacks, UpstreamRequestSpec } from '../connection-pool.js';
import { parseResponseHead, UpstreamProtocolError, type ResponseHead } from './response-parser.js';

/** One request/response exchange as a connection runs it (the pool's stream). */
export interface Exchange {
  readonly spec: UpstreamRequestSpec;
  readonly callbacks: UpstreamCallbacks;
  /** Called once when the exchange is over, however it ended, before the callback that says so. */
  over(): void;
}

/** What a connection tells its pool. */
export interface ConnectionOwner {
  onConnected(conn: Http1ClientConnection): void;
  /** An exchange ended cleanly and the connection may take another. */
  onIdle(conn: Http1ClientConnection): void;
  /** The connection is done (closing or closed); said once. `connected`: it had come up. */
  onGone(conn: Http1ClientConnection, connected: boolean, err: Error | null): void;
}

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly connectTimeoutMs: number;
  /** TCP keepalive idle time (0: the OS's), or null for none. */
  readonly tcpKeepaliveTimeMs: number | null;
  /** TLS client options (the cluster's), or null for plaintext. */
  readonly tls: ConnectionOptions | null;
  /** A TLS session to resume. */
  readonly session?: Buffer | undefined;
  /** Said when the server hands out a resumable TLS session. */
  readonly onSession?: ((session: Buffer) => void) | undefined;
  /** Close after this many requests; null: never. */
  readonly maxRequests: number | null;
}

type Reading = 'head' | 'body' | 'until-close';

const FINAL_CHUNK = '0\r\n\r\n';
/**
 * Where every plaintext upstream connection reads (one read is handled whole before the next can start).
 * 64 KiB, as libuv reads by default.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
const CRLF = '\r\n';

/**
 * One upstream HTTP/1.1 connection (Envoy's ClientConnection): writes a request head and streams its body
 * (chunked when no length is known), parses the response off the socket and hands headers, body slices and
 * trailers to the exchange's callbacks. One exchange at a time, no pipelining. Backpressure both ways: a full
 * socket pauses the request body, a full downstream pauses the socket.
 */
export class Http1ClientConnection implements BodySink {
  readonly socket: Socket;
  /** When the connection last became idle (ms since the epoch), for the pool's idle sweep. */
  idleSince = 0;
  /** How long it may stay idle: the pool's idle timeout, shortened by the server's Keep-Alive hint. */
  maxIdleMs: number;
  private exchange: Exchange | null = null;
  private connected = false;
  private gone = false;
  private served = 0;
  private connectTimer: NodeJS.Timeout | null;
  private error: Error | null = null;
  // request side
  private body: RequestBody | null = null;
  private chunked = false;
  private bodyPaused = false;
  private requestDone = false;
  // response side
  private reading: Reading = 'head';
  /** Bytes read but not yet used: a head still incomplete, or a chunk line the read cut. */
  private buf: Buffer | null = null;
  private scanFrom = 0;
  private decoder: BodyDecoder | null = null;
  private bodyEnded = false;
  private trailers: IncomingHttpHeaders | null = null;
  private keepAlive = false;
  /** True while handling a read that sits in READ_BUFFER. */
  private readIsShared = false;

  constructor(
    private readonly owner: ConnectionOwner,
    private readonly opts: ConnectOptions,
    idleTimeoutMs: number,
  ) {
    this.maxIdleMs = idleTimeoutMs;
    // Plaintext reads land in the shared read buffer and come straight to onRead: no Readable stream, no
    // 'data' event, no buffer allocated per read. TLS sockets can't read that way and use 'data'.
    const socket = opts.tls
      ? tls.connect({ ...opts.tls, host: opts.host, port: opts.port, ALPNProtocols: ['http/1.1'], ...(opts.session ? { session: opts.session } : {}) })
      : net.connect({ host: opts.host, port: opts.port, onread: { buffer: READ_BUFFER, callback: (n: number, buf: Uint8Array) => this.onRead(n, buf) } });
    this.socket = socket;
    socket.setNoDelay(true);
    if (opts.tcpKeepaliveTimeMs !== null) socket.setKeepAlive(true, opts.tcpKeepaliveTimeMs);
    this.connectTimer = setTimeout(() => this.onConnectTimeout(), opts.connectTimeoutMs);
    socket.once(opts.tls ? 'secureConnect' : 'connect', () => this.onConnect());
    if (opts.onSession) socket.on('session', opts.onSession);
    if (opts.tls) socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('end', () => this.onEnd());
    socket.on('error', (err: Error) => (this.error ??= err));
    socket.on('close', () => this.onClose());
  }

  /** Runs an exchange (the socket may still be connecting: writes wait in its buffer). */
  send(ex: Exchange): void {
    this.exchange = ex;
    this.reading = 'head';
    this.requestDone = false;
    this.bodyEnded = false;
    this.trailers = null;
    this.writeRequest(ex.spec);
  }

  /** Cancels the exchange: the upstream sees the connection reset; no callback follows. */
  abort(): void {
    this.exchange = null;
    this.destroy(null);
  }

  /** Resumes response bytes after the exchange's onUpstreamData returned false. */
  resume(): void {
    if (!this.gone) this.socket.resume();
  }

  /** Closes an idle connection (the pool's idle sweep, or the pool closing). */
  close(): void {
    this.retire(null);
    this.socket.end();
  }

  destroy(err: Error | null): void {
    this.retire(err);
    this.socket.destroy();
  }

  // --- request --------------------------------------------------------------------------------------------

  private writeRequest(spec: UpstreamRequestSpec): void {
    const headers = spec.headers;
    let head = `${spec.method} ${spec.path} HTTP/1.1\r\nhost: ${spec.authority}\r\n`;
    for (const name in headers) {
      const v = headers[name]!;
      if (typeof v === 'string') head += `${name}: ${v}\r\n`;
      else for (let i = 0; i < v.length; i++) head += `${name}: ${v[i]}\r\n`;
    }
    if (this.opts.maxRequests !== null && this.served + 1 >= this.opts.maxRequests) head += 'connection: close\r\n';
    const body = spec.body;
    if (body === null) {
      // As undici and Node do: a method that expects a body says it has none.
      if (headers['content-length'] === undefined && expectsPayload(spec.method)) head += 'content-length: 0\r\n';
      this.socket.write(head + CRLF, 'latin1');
      this.requestDone = true;
      return;
    }
    if (Buffer.isBuffer(body)) {
      if (headers['content-length'] === undefined) head += `content-length: ${body.length}\r\n`;
      if (body.length <= SMALL_BODY) {
        this.socket.write(head + CRLF + body.toString('latin1'), 'latin1'); // one plain write, byte for byte
      } else {
        this.socket.cork();
        this.socket.write(head + CRLF, 'latin1');
        this.socket.write(body);
        this.socket.uncork();
      }
      this.requestDone = true;
      return;
    }
    this.chunked = headers['content-length'] === undefined;
    if (this.chunked) head += 'transfer-encoding: chunked\r\n';
    // Held back until the body's first bytes (already buffered ones flow on the next tick): one write for both.
    this.socket.cork();
    this.socket.write(head + CRLF, 'latin1');
    this.body = body;
    body.on('data', this.onRequestData);
    body.on('end', this.onRequestEnd);
    body.on('error', this.onRequestError);
    process.nextTick(uncork, this.socket);
  }

  private readonly onRequestData = (chunk: Buffer): void => {
    const socket = this.socket;
    let ok: boolean;
    if (this.chunked) {
      if (chunk.length === 0) return;
      socket.cork();
      socket.write(chunk.length.toString(16) + CRLF, 'latin1');
      socket.write(chunk);
      ok = socket.write(CRLF, 'latin1');
      socket.uncork();
    } else {
      ok = socket.write(chunk);
    }
    if (!ok) {
      this.bodyPaused = true;
      this.body!.pause();
    }
  };

  private readonly onRequestEnd = (): void => {
    // HTTP/1 request trailers are dropped, as Envoy's codec does by default.
    if (this.chunked) this.socket.write(FINAL_CHUNK, 'latin1');
    this.detachBody();
    this.requestDone = true;
  };

  private readonly onRequestError = (err: Error): void => {
    this.detachBody();
    this.destroy(err);
  };

  private detachBody(): void {
    const body = this.body;
    if (body === null) return;
    this.body = null;
    body.off('data', this.onRequestData);
    body.off('end', this.onRequestEnd);
    body.off('error', this.onRequestError);
    if (this.bodyPaused) {
      this.bodyPaused = false;
      body.resume();
    }
  }

  private onDrain(): void {
    if (!this.bodyPaused) return;
    this.bodyPaused = false;
    this.body?.resume();
  }

  // --- response -------------------------------------------------------------------------------------------

  /** A plaintext read into READ_BUFFER, which the next read overwrites: what outlives this call is copied. */
  private onRead(n: number, buf: Uint8Array): boolean {
    this.readIsShared = true;
    try {
      this.onData((buf as Buffer).subarray(0, n));
    } finally {
      this.readIsShared = false;
    }
    // false stops reading (as pause() does); a body slice the downstream couldn't take has paused it already.
    return !this.gone && !this.socket.isPaused();
  }

  private onData(chunk: Buffer): void {
    if (this.gone) return;
    try {
      if (this.exchange === null) throw new UpstreamProtocolError('bytes from the upstream with no request outstanding');
      if (this.reading === 'head') this.readHead(chunk);
      else if (this.reading === 'body') this.decodeBody(this.withPending(chunk), 0);
      else this.onBodyData(chunk);
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  private readHead(chunk: Buffer): void {
    // `buf` is the read itself (or a piece of it) unless an incomplete head was waiting.
    const shared = this.buf === null && this.readIsShared;
    let buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      const end = buf.indexOf('\r\n\r\n', this.scanFrom, 'latin1');
      if (end < 0) {
        if (buf.length > MAX_HEAD_BYTES) throw new UpstreamProtocolError('response headers too large');
        this.buf = shared ? Buffer.from(buf) : buf;
        this.scanFrom = Math.max(0, buf.length - 3);
        return;
      }
      const head = parseResponseHead(buf.toString('latin1', 0, end), this.exchange!.spec.method === 'HEAD');
      this.buf = null;
      this.scanFrom = 0;
      const restAt = end + 4;
      if (head.status >= 200) return this.onHead(head, restAt < buf.length ? buf.subarray(restAt) : null);
      // 1xx interim responses (100 Continue, 103 Early Hints) are dropped; 101 only answers an upgrade, never sent here.
      if (head.status === 101) throw new UpstreamProtocolError('unexpected 101 Switching Protocols');
      if (restAt >= buf.length) return;
      buf = buf.subarray(restAt);
    }
  }

  private onHead(head: ResponseHead, rest: Buffer | null): void {
    const ex = this.exchange!;
    this.keepAlive = head.keepAlive;
    if (head.keepAliveHintMs !== null) this.maxIdleMs = Math.min(this.maxIdleMs, head.keepAliveHintMs - 1000);
    const kind = head.framing.kind;
    if (kind === 'none') {
      if (rest !== null) this.keepAlive = false; // bytes past a bodiless response: don't trust the connection
      this.bodyEnded = true;
      ex.callbacks.onUpstreamHeaders(head.status, head.headers, true);
      return this.complete(ex);
    }
    if (kind === 'close') this.reading = 'until-close';
    else {
      this.reading = 'body';
      this.decoder = new BodyDecoder(head.framing, this);
    }
    ex.callbacks.onUpstreamHeaders(head.status, head.headers, false);
    if (rest === null || this.exchange !== ex) return;
    if (this.reading === 'body') this.decodeBody(rest, 0);
    else this.onBodyData(rest);
  }

  private decodeBody(buf: Buffer, offset: number): void {
    const ex = this.exchange!;
    const used = this.decoder!.decode(buf, offset);
    if (this.exchange !== ex) return;
    if (!this.bodyEnded) {
      // A chunk-size line, CRLF or trailer section cut by the read (the decoder bounds its length): its
      // bytes wait for the next read. Copied, since body slices are all that may keep the socket's buffer.
      if (offset + used < buf.length) this.buf = Buffer.from(buf.subarray(offset + used));
      return;
    }
    if (offset + used < buf.length) this.keepAlive = false;
    this.complete(ex);
  }

  /** The chunk, after the bytes of a cut chunk line the last read left, if any. */
  private withPending(chunk: Buffer): Buffer {
    const pending = this.buf;
    if (pending === null) return chunk;
    this.buf = null;
    return Buffer.concat([pending, chunk]);
  }

  /** BodySink (and bodies that run to the close): a slice of the response body. */
  onBodyData(chunk: Buffer): void {
    const ex = this.exchange;
    if (ex === null) return;
    // The downstream may keep the slice (a write it queues, a buffered retry): never hand it the shared buffer.
    if (!ex.callbacks.onUpstreamData(this.readIsShared ? Buffer.from(chunk) : chunk)) this.socket.pause();
  }

  /** BodySink: the framed body is complete (decodeBody finishes the exchange once the decoder returns). */
  onBodyEnd(trailers: IncomingHttpHeaders | null): void {
    this.bodyEnded = true;
    this.trailers = trailers;
    this.decoder = null;
  }

  /** The response is complete: the exchange is over, and the connection goes back to the pool or closes. */
  private complete(ex: Exchange): void {
    this.exchange = null;
    this.decoder = null;
    this.served++;
    // A response before the whole request went out (an early 413, say): the rest of the body isn't sent.
    if (!this.requestDone) {
      this.detachBody();
      this.keepAlive = false;
    }
    const trailers = this.trailers;
    this.trailers = null;
    const reuse = this.keepAlive && this.maxIdleMs > 0 && (this.opts.maxRequests === null || this.served < this.opts.maxRequests);
    ex.over();
    ex.callbacks.onUpstreamEnd(trailers);
    if (this.gone) return;
    if (reuse) {
      if (this.socket.isPaused()) this.socket.resume();
      this.owner.onIdle(this);
    } else {
      this.close();
    }
  }

  // --- connection life ------------------------------------------------------------------------------------

  private onConnect(): void {
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    if (this.gone) return;
    this.connected = true;
    this.owner.onConnected(this);
  }

  private onConnectTimeout(): void {
    this.connectTimer = null;
    const err = Object.assign(new Error(`connect timeout after ${this.opts.connectTimeoutMs} ms`), { code: 'ETIMEDOUT' });
    this.destroy(err);
  }

  /** The server half-closed: a body that runs to the close is complete; anything else in flight failed. */
  private onEnd(): void {
    const ex = this.exchange;
    if (ex !== null && this.reading === 'until-close' && !this.gone) {
      this.keepAlive = false;
      this.complete(ex);
    }
  }

  private onClose(): void {
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    this.retire(this.error);
  }

  /** Leaves the pool (once) and fails the exchange in flight, if any. */
  private retire(err: Error | null): void {
    if (this.gone) return;
    this.gone = true;
    this.buf = null;
    this.detachBody();
    const ex = this.exchange;
    this.exchange = null;
    this.owner.onGone(this, this.connected, err ?? this.error);
    if (ex === null) return;
    const reason: ResetReason = this.connected ? 'connection_termination' : 'connection_failure';
    ex.over();
    ex.callbacks.onUpstreamError(reason, err ?? this.error ?? new Error('upstream connection closed before the response completed'));
  }
}

function uncork(socket: Socket): void {
  socket.uncork();
}

function expectsPayload(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH';
}
