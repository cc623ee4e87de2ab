import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { RequestBody } from '../upstream/connection-pool.js';

/** Told about the downstream body as the buffer reads it. */
export interface BodyBufferOwner {
  /** The body ended and every byte of it is kept: it can be replayed (retries, shadows). */
  onBodyComplete(replayable: boolean): void;
  /** The body grew past the limit: what was kept is dropped, nothing can be replayed any more. */
  onBodyOverflow(): void;
}

const kBuffer = Symbol('trellis.bodyBuffer');
type Tagged = RequestBody & { [kBuffer]?: RequestBodyBuffer };

/**
 * The router's copy of a request body, for requests that may be retried or shadowed (Envoy buffers the
 * same way, up to per_request_buffer_limit_bytes). It reads the downstream body once and streams it into
 * the current attempt's body as it arrives (backpressure included), keeping the chunks while the total
 * stays within the limit. A retry gets a new body that replays the kept chunks and then continues live;
 * a shadow gets a full replay once the body is complete. Past the limit the chunks are dropped: the
 * current attempt carries on, but the request can no longer be retried or shadowed.
 */
export class RequestBodyBuffer {
  private chunks: Buffer[] | null = [];
  private size = 0;
  private ended = false;
  private target: AttemptBody | null = null;
  private owner: BodyBufferOwner | null;

  constructor(
    private readonly source: RequestBody,
    private readonly limit: number,
    owner: BodyBufferOwner,
  ) {
    this.owner = owner;
    (source as Tagged)[kBuffer] = this;
    source.on('data', onSourceData);
    source.once('end', onSourceEnd);
  }

  get replayable(): boolean {
    return this.chunks !== null;
  }

  /** The body for the next attempt: what was read so far, then the rest as it comes. Replaces the previous one. */
  attemptBody(): RequestBody {
    const body = new AttemptBody(this);
    if (this.chunks !== null) for (const c of this.chunks) body.push(c);
    if (this.ended) body.push(null);
    else this.target = body;
    return body;
  }

  /** A complete copy of the body (only once it ended and was kept whole). */
  replay(): RequestBody {
    const body = new AttemptBody(this);
    for (const c of this.chunks!) body.push(c);
    body.push(null);
    return body;
  }

  /** No attempt reads any more (the request is over) but shadows still wait for the whole body. */
  stopFeeding(): void {
    this.target = null;
    if (this.source.isPaused()) this.source.resume();
  }

  /** The request is over: drop what was kept; the rest of the downstream body is read and discarded. */
  detach(): void {
    this.owner = null;
    this.chunks = null;
    this.target = null;
    if (this.source.isPaused()) this.source.resume();
  }

  get trailers(): IncomingHttpHeaders | undefined {
    return this.source.trailers;
  }

  /** @internal */
  onData(chunk: Buffer): void {
    const kept = this.chunks;
    if (kept !== null) {
      this.size += chunk.length;
      if (this.size <= this.limit) kept.push(chunk);
      else {
        this.chunks = null;
        this.owner?.onBodyOverflow();
      }
    }
    const target = this.target;
    if (target !== null && !target.push(chunk)) this.source.pause();
  }

  /** @internal */
  onEnd(): void {
    this.ended = true;
    const target = this.target;
    this.target = null;
    target?.push(null);
    this.owner?.onBodyComplete(this.chunks !== null);
  }

  /** @internal An attempt's body wants more: only the live one may resume the downstream. */
  pull(body: AttemptBody): void {
    if (body === this.target && this.source.isPaused()) this.source.resume();
  }
}

/** One attempt's (or shadow's) view of the body; `trailers` are the downstream's, once it ended. */
class AttemptBody extends Readable {
  constructor(private readonly buffer: RequestBodyBuffer) {
    super();
  }

  override _read(): void {
    this.buffer.pull(this);
  }

  get trailers(): IncomingHttpHeaders | undefined {
    return this.buffer.trailers;
  }
}

function onSourceData(this: Tagged, chunk: Buffer): void {
  this[kBuffer]!.onData(chunk);
}

function onSourceEnd(this: Tagged): void {
  this[kBuffer]!.onEnd();
}
