import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { BodyDecoder, type BodySink } from './body-decoder.js';
import { CodecError, MAX_HEAD_BYTES, parseRequestHead, type ParsedHead } from './request-parser.js';
import { Http1RequestBody, Http1ServerRequest } from './server-request.js';
import { Http1ServerResponse, type ResponseOwner } from './server-response.js';

/** What the codec hands to the connection manager. */
export interface Http1Handlers {
  onRequest(req: Http1ServerRequest, res: Http1ServerResponse): void;
  /** `Connection: upgrade`: the socket is the handler's from now on; `head` holds bytes already read past the head. */
  onUpgrade(req: Http1ServerRequest, socket: Socket, head: Buffer): void;
  /** A request refused by the codec (the connection is being closed with `status`). */
  onCodecError(status: number, reason: string): void;
}

type State = 'head' | 'body' | 'response' | 'closed';

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const EMPTY = Buffer.alloc(0);

/**
 * One downstream HTTP/1.1 connection (Envoy's ServerConnection): parses requests off the socket, one at a
 * time in order (a pipelined request waits, buffered, until the response before it is written), streams each
 * body into its request, and keeps the connection alive between requests unless either side says close.
 * Idle and header timeouts are checked by the listener's sweep, not a timer per request.
 */
export class Http1ServerConnection implements BodySink, ResponseOwner {
  private buf: Buffer | null = null;
  /** Where to resume looking for the end of a head that arrived in pieces. */
  private scanFrom = 0;
  private state: State = 'head';
  private decoder: BodyDecoder | null = null;
  private body: Http1RequestBody | null = null;
  private res: Http1ServerResponse | null = null;
  private bodyComplete = true;
  private processing = false;
  /** Sweep tick at which the connection last went idle, or started waiting for a head. */
  private since: number;
  draining = false;

  constructor(
    readonly socket: Socket,
    private readonly handlers: Http1Handlers,
    private readonly clock: { readonly tick: number },
  ) {
    this.since = clock.tick;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.res?.emit('drain'));
    socket.on('end', () => this.onPeerEnd());
    socket.on('close', () => this.onClose());
  }

  /** Between requests, with nothing buffered. */
  get idle(): boolean {
    return this.state === 'head' && this.buf === null;
  }

  /**
   * Called by the listener's sweep: closes a connection idle for `idleTicks`, and answers 408 to one whose
   * request head hasn't arrived in `headTicks`.
   */
  sweep(tick: number, idleTicks: number, headTicks: number): void {
    if (this.state !== 'head') return;
    if (this.buf === null) {
      if (tick - this.since >= idleTicks) this.close();
    } else if (tick - this.since >= headTicks) {
      this.fail(new CodecError(408, 'request header timeout'));
    }
  }

  /** Drain: idle connections close now, busy ones after their current response. */
  drain(): void {
    this.draining = true;
    if (this.res !== null) this.res.shouldKeepAlive = false;
    if (this.idle) this.close();
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.socket.end();
  }

  // --- reading --------------------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    if (this.buf === null) {
      this.buf = chunk;
      if (this.state === 'head') this.since = this.clock.tick;
    } else {
      this.buf = Buffer.concat([this.buf, chunk]);
    }
    this.process();
  }

  private process(): void {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.buf !== null && this.step()) {
        // each step consumed something and may continue
      }
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      this.fail(err);
    } finally {
      this.processing = false;
    }
  }

  /** One unit of work on the buffer; false when it must wait for more bytes or for the response. */
  private step(): boolean {
    switch (this.state) {
      case 'head':
        return this.readHead();
      case 'body': {
        const used = this.decoder!.decode(this.buf!, 0);
        this.consume(used);
        return this.state !== 'body';
      }
      case 'response':
        // A pipelined request waits; don't let it pile up unread.
        if (this.buf!.length > MAX_HEAD_BYTES) this.socket.pause();
        return false;
      case 'closed':
        return false;
    }
  }

  private readHead(): boolean {
    let buf = this.buf!;
    // RFC 9112 §2.2: empty lines before a request line are ignored.
    while (buf.length >= 2 && buf[0] === 13 && buf[1] === 10) {
      this.consume(2);
      if (this.buf === null) return false;
      buf = this.buf;
    }
    const end = buf.indexOf('\r\n\r\n', this.scanFrom, 'latin1');
    if (end < 0) {
      if (buf.length > MAX_HEAD_BYTES) throw new CodecError(431, 'request header too large');
      this.scanFrom = Math.max(0, buf.length - 3);
      return false;
    }
    if (end > MAX_HEAD_BYTES) throw new CodecError(431, 'request header too large');
    const head = parseRequestHead(buf.toString('latin1', 0, end));
    this.consume(end + 4);
    this.startRequest(head);
    return true;
  }

  private consume(n: number): void {
    const buf = this.buf!;
    this.buf = n >= buf.length ? null : buf.subarray(n);
    this.scanFrom = 0;
  }

  private startRequest(head: ParsedHead): void {
    const socket = this.socket;
    if (head.upgrade) return this.upgrade(head);
    let body: Http1RequestBody | null = null;
    const whole = head.framing.kind === 'length' ? this.takeWholeBody(head.framing.length) : null;
    if (whole !== null) {
      body = new Http1RequestBody(this);
      body.wholeBody = whole;
      body.bytesReceived = whole.length;
      this.bodyComplete = true;
      this.state = 'response';
    } else if (head.framing.kind !== 'none') {
      body = new Http1RequestBody(this);
      this.decoder = new BodyDecoder(head.framing, this);
      this.bodyComplete = false;
      this.state = 'body';
      if (head.expectContinue && head.versionMinor === 1) socket.write(CONTINUE, 'latin1');
    } else {
      this.bodyComplete = true;
      this.state = 'response';
    }
    this.body = body;
    const res = new Http1ServerResponse(this, head.method === 'HEAD', head.keepAlive && !this.draining, head.versionMinor);
    this.res = res;
    this.handlers.onRequest(new Http1ServerRequest(head, socket, body), res);
  }

  /**
   * A length-framed body already read with its head (a small POST usually is): taken whole, so the request
   * needs no stream machinery at all. Null when some of it is still to come.
   */
  private takeWholeBody(length: number): Buffer | null {
    const buf = this.buf;
    if (buf === null || buf.length < length) return null;
    const whole = buf.subarray(0, length);
    this.consume(length);
    return whole;
  }

  /** Hands the socket over, paused, with whatever was read past the head. */
  private upgrade(head: ParsedHead): void {
    const socket = this.socket;
    socket.pause();
    socket.removeAllListeners('data');
    socket.removeAllListeners('drain');
    socket.removeAllListeners('end');
    const rest = this.buf ?? EMPTY;
    this.buf = null;
    this.state = 'closed';
    this.handlers.onUpgrade(new Http1ServerRequest(head, socket, null), socket, rest);
  }

  // --- request body (BodySink) ----------------------------------------------------------------------------

  onBodyData(chunk: Buffer): void {
    const body = this.body!;
    body.bytesReceived += chunk.length;
    if (!body.push(chunk)) this.socket.pause();
  }

  onBodyEnd(trailers: IncomingHttpHeaders | null): void {
    const body = this.body!;
    if (trailers !== null) body.trailers = trailers;
    body.push(null);
    this.bodyComplete = true;
    this.decoder = null;
    this.state = this.res === null ? 'head' : 'response';
  }

  /** @internal The body's consumer wants more. */
  resumeBody(): void {
    if (this.state !== 'closed') this.socket.resume();
  }

  // --- response (ResponseOwner) ---------------------------------------------------------------------------

  onResponseEnd(res: Http1ServerResponse): void {
    if (res !== this.res) return;
    this.res = null;
    // A request body still arriving can't be skipped reliably: close rather than guess where it ends.
    if (!res.shouldKeepAlive || !this.bodyComplete) {
      this.close();
      return;
    }
    this.body = null;
    this.state = 'head';
    this.since = this.clock.tick;
    if (this.socket.isPaused()) this.socket.resume();
    if (this.buf !== null) this.process();
  }

  // --- errors and close -----------------------------------------------------------------------------------

  /** A request the codec refuses: the status, `connection: close`, and the connection ends. */
  private fail(err: CodecError): void {
    if (this.state === 'closed') return;
    const busy = this.res !== null && this.res.headersSent;
    this.state = 'closed';
    this.buf = null;
    if (busy) {
      this.socket.destroy();
      return;
    }
    const body = err.status === 400 ? err.message : '';
    const reason = err.status === 400 ? 'Bad Request' : REASONS[err.status];
    this.socket.end(
      `HTTP/1.1 ${err.status} ${reason}\r\ncontent-length: ${body.length}\r\n${body ? 'content-type: text/plain\r\n' : ''}connection: close\r\n\r\n${body}`,
      'latin1',
    );
    this.body?.destroy(err);
    this.handlers.onCodecError(err.status, err.message);
  }

  /** The client half-closed: between requests the connection just ends; a request in flight is aborted (as Envoy and Node do). */
  private onPeerEnd(): void {
    if (this.state === 'head' || this.state === 'closed') {
      this.state = 'closed';
      this.socket.end();
    } else {
      this.socket.destroy();
    }
  }

  private onClose(): void {
    this.state = 'closed';
    this.buf = null;
    const body = this.body;
    if (body !== null && !this.bodyComplete) body.destroy(new Error('the client closed the connection'));
    this.res?.onConnectionClose();
    this.res = null;
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
};
