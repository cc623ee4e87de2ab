import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { HeaderMap } from '../router/header-mutations.js';

/**
 * A downstream request body: a stream whose `trailers` are filled in by the time it ends. `wholeBody` is set
 * when the whole body arrived with the head (the HTTP/1 codec read it already): then nobody needs to stream it.
 */
export type RequestBody = Readable & { readonly trailers?: IncomingHttpHeaders; readonly wholeBody?: Buffer | null };

/** One request for an upstream connection pool. The pool takes ownership of `headers`. */
export interface UpstreamRequestSpec {
  readonly method: string;
  /** Origin-form path with query. */
  readonly path: string;
  readonly authority: string;
  /** Regular headers only: no pseudo-headers, no Host (`authority` carries it), no hop-by-hop headers. */
  readonly headers: HeaderMap;
  /** A stream, or a body whole in memory (sent as is, and as often as asked); null when there is none. */
  readonly body: RequestBody | Buffer | null;
}

/**
 * Envoy's stream reset reasons, as the router tells them apart: a connection that never came up (UF), one
 * that went away before the response (UC), a stream the upstream reset (UR; HTTP/2 REFUSED_STREAM apart,
 * since retries treat it specially), one reset here (LR).
 */
export type ResetReason =
  | 'connection_failure'
  | 'connection_termination'
  | 'remote_reset'
  | 'remote_refused_stream_reset'
  | 'local_reset'
  /** A circuit breaker refused the request (max_pending_requests / max_requests): 503 UO, never sent. */
  | 'overflow';

/** What a pool reports about one upstream stream. Called at most once each, in order, except onData. */
export interface UpstreamCallbacks {
  /** `endStream`: the response ended with its headers (gRPC's trailers-only responses rely on this). */
  onUpstreamHeaders(status: number, headers: IncomingHttpHeaders, endStream: boolean): void;
  /** Returns false when the downstream is full: the pool pauses until `resume()`. */
  onUpstreamData(chunk: Buffer): boolean;
  onUpstreamEnd(trailers: IncomingHttpHeaders | null): void;
  /** The stream failed (never after onUpstreamEnd, never after abort()). */
  onUpstreamError(reason: ResetReason, err: Error): void;
}

export interface UpstreamStream {
  /** Cancels the upstream request (the upstream sees its connection or stream reset). No callback follows. */
  abort(): void;
  /** Resumes response data after onUpstreamData returned false. */
  resume(): void;
}

export interface ConnectionPoolStats {
  readonly cxActive: number;
  readonly cxTotal: number;
  readonly cxConnectFail: number;
}

/** A connection pool to one endpoint, speaking one protocol. */
export interface ConnectionPool {
  readonly protocol: 'http1' | 'http2';
  newStream(spec: UpstreamRequestSpec, callbacks: UpstreamCallbacks): UpstreamStream;
  stats(): ConnectionPoolStats;
  /** Stops taking new streams; resolves once in-flight ones are done. */
  close(): Promise<void>;
  /** Drops every connection now. */
  destroy(): void;
}
