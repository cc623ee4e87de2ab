import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { ParsedHead } from './request-parser.js';

/**
 * A downstream HTTP/1 request as the connection manager reads it: the fields of Node's IncomingMessage it
 * uses, without a stream per request. The body, when there is one, is a separate stream.
 */
export class Http1ServerRequest {
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor: 0 | 1;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;

  constructor(
    head: ParsedHead,
    readonly socket: Socket,
    /** Null when the request has no body. */
    readonly body: Http1RequestBody | null,
  ) {
    this.httpVersionMinor = head.versionMinor;
    this.method = head.method;
    this.url = head.target;
    this.headers = head.headers;
  }
}

/**
 * A request body as a Readable (the upstream pool streams it from here). Backpressure reaches the socket: when
 * the consumer lags, `pauseSocket` stops reading; `_read` resumes it.
 */
export class Http1RequestBody extends Readable {
  trailers: IncomingHttpHeaders | undefined;
  /** Body bytes decoded so far (telemetry's bytes_received). */
  bytesReceived = 0;
  /** The whole body when it arrived with the head; streamed only if someone reads this stream anyway. */
  wholeBody: Buffer | null = null;
  private wholePushed = false;

  constructor(private readonly flow: { resumeBody(): void }) {
    super({ highWaterMark: 64 * 1024 });
  }

  override _read(): void {
    const whole = this.wholeBody;
    if (whole === null) return this.flow.resumeBody();
    if (this.wholePushed) return;
    this.wholePushed = true;
    this.push(whole);
    this.push(null);
  }
}
