import type { IncomingHttpHeaders } from 'node:http';
import { CodecError, MAX_HEAD_BYTES, parseFields, type BodyFraming } from './request-parser.js';

/** Where decoded body bytes go. */
export interface BodySink {
  /** A slice of body data: a view into a buffer the socket read, which Node never reuses. */
  onBodyData(chunk: Buffer): void;
  /** The body is complete; `trailers` only for a chunked body that had some. */
  onBodyEnd(trailers: IncomingHttpHeaders | null): void;
}

/** Bytes of a chunk-size line we accept (Envoy and Node cap it too): a size plus modest extensions. */
const MAX_CHUNK_LINE = 4096;

type ChunkState = 'size' | 'data' | 'data-crlf' | 'trailers';

/**
 * Decodes a request body framed by Content-Length or chunked coding (RFC 9112 §7.1), in whatever pieces the
 * socket delivers, handing data slices to the sink without copying. `decode` returns how many bytes it used:
 * anything after the body belongs to the next request.
 */
export class BodyDecoder {
  private remaining: number;
  private state: ChunkState = 'size';
  private done = false;

  constructor(
    private readonly framing: BodyFraming,
    private readonly sink: BodySink,
  ) {
    this.remaining = framing.kind === 'length' ? framing.length : 0;
  }

  get complete(): boolean {
    return this.done;
  }

  /** Consumes from `buf` starting at `offset`; returns the number of bytes used. Throws CodecError. */
  decode(buf: Buffer, offset: number): number {
    if (this.done) return 0;
    return this.framing.kind === 'chunked' ? this.decodeChunked(buf, offset) : this.decodeLength(buf, offset);
  }

  private decodeLength(buf: Buffer, offset: number): number {
    const n = Math.min(this.remaining, buf.length - offset);
    if (n > 0) {
      this.remaining -= n;
      this.sink.onBodyData(buf.subarray(offset, offset + n));
    }
    if (this.remaining === 0) this.finish(null);
    return n;
  }

  private decodeChunked(buf: Buffer, offset: number): number {
    let pos = offset;
    while (pos < buf.length && !this.done) {
      const used = this.step(buf, pos);
      if (used === 0) break; // need more bytes
      pos += used;
    }
    return pos - offset;
  }

  /** One step of the chunked state machine; 0 when the bytes at `pos` are not enough to move on. */
  private step(buf: Buffer, pos: number): number {
    switch (this.state) {
      case 'size': {
        const eol = buf.indexOf('\r\n', pos, 'latin1');
        if (eol < 0) {
          if (buf.length - pos > MAX_CHUNK_LINE) throw new CodecError(400, 'chunk size line too long');
          return 0;
        }
        this.remaining = chunkSize(buf.toString('latin1', pos, eol));
        this.state = this.remaining === 0 ? 'trailers' : 'data';
        return eol + 2 - pos;
      }
      case 'data': {
        const n = Math.min(this.remaining, buf.length - pos);
        this.remaining -= n;
        this.sink.onBodyData(buf.subarray(pos, pos + n));
        if (this.remaining === 0) this.state = 'data-crlf';
        return n;
      }
      case 'data-crlf': {
        if (buf.length - pos < 2) return 0;
        if (buf[pos] !== 13 || buf[pos + 1] !== 10) throw new CodecError(400, 'missing CRLF after chunk data');
        this.state = 'size';
        return 2;
      }
      case 'trailers':
        return this.trailers(buf, pos);
    }
  }

  /** The trailer section ends with an empty line; with no trailers that is the CRLF right after `0\r\n`. */
  private trailers(buf: Buffer, pos: number): number {
    if (buf.length - pos >= 2 && buf[pos] === 13 && buf[pos + 1] === 10) {
      this.finish(null);
      return 2;
    }
    const end = buf.indexOf('\r\n\r\n', pos, 'latin1');
    if (end < 0) {
      if (buf.length - pos > MAX_HEAD_BYTES) throw new CodecError(431, 'trailers too large');
      return 0;
    }
    this.finish(parseFields(buf.toString('latin1', pos, end), 0));
    return end + 4 - pos;
  }

  private finish(trailers: IncomingHttpHeaders | null): void {
    this.done = true;
    this.sink.onBodyEnd(trailers);
  }
}

/** `1a;ext=1` -> 26. Sizes beyond 2^53 or non-hex digits are refused. */
function chunkSize(line: string): number {
  const semi = line.indexOf(';');
  const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
  if (!/^[0-9a-fA-F]{1,13}$/.test(hex)) throw new CodecError(400, 'invalid chunk size');
  return parseInt(hex, 16);
}
