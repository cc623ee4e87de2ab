import type { ActiveStream } from '../http/active-stream.js';
import type { StreamInfo } from '../http/stream-info.js';

/**
 * One request as a JSON access log line (Istio's JSON encoding of Envoy's default fields). Values a request
 * doesn't have (no upstream, no route, a request the codec refused) are null, as Envoy's JSON formatter
 * prints them.
 */
export interface AccessLogEntry {
  readonly start_time: string;
  readonly method: string | null;
  readonly authority: string | null;
  readonly path: string | null;
  readonly protocol: string;
  readonly response_code: number;
  readonly response_flags: string;
  readonly response_code_details: string | null;
  readonly bytes_received: number;
  readonly bytes_sent: number;
  /** Milliseconds, whole (Envoy's %DURATION%). */
  readonly duration: number;
  readonly upstream_host: string | null;
  readonly upstream_cluster: string | null;
  readonly x_request_id: string | null;
  /** From the request's W3C traceparent (which the tracing filter sets), else its B3 trace id, else null. */
  readonly trace_id: string | null;
  readonly route_name: string | null;
  readonly downstream_remote_address: string | null;
}

export function accessLogEntry(info: StreamInfo, stream: ActiveStream | null): AccessLogEntry {
  return {
    start_time: new Date(info.startTime).toISOString(),
    method: stream?.method ?? null,
    authority: stream?.authority || null,
    path: stream?.path ?? null,
    protocol: info.protocol,
    response_code: info.responseCode,
    response_flags: info.responseFlagsString,
    response_code_details: info.responseCodeDetails || null,
    bytes_received: info.bytesReceived,
    bytes_sent: info.bytesSent,
    duration: Math.max(0, Math.round(info.durationMs)),
    upstream_host: info.upstreamHost || null,
    upstream_cluster: info.clusterName || null,
    x_request_id: info.requestId || null,
    trace_id: stream === null ? null : (traceId(stream.headers.traceparent) ?? b3TraceId(stream.headers['x-b3-traceid'])),
    route_name: info.routeName || null,
    downstream_remote_address: info.downstreamRemoteAddress || null,
  };
}

/** One line, newline-terminated. */
export function formatAccessLogLine(info: StreamInfo, stream: ActiveStream | null): string {
  return `${JSON.stringify(accessLogEntry(info, stream))}\n`;
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}/;

/** The trace id of a W3C traceparent (`00-<trace id>-<span id>-<flags>`); null when absent or malformed. */
export function traceId(header: string | string[] | undefined): string | null {
  if (typeof header !== 'string') return null;
  const m = TRACEPARENT.exec(header);
  return m === null || m[1] === '00000000000000000000000000000000' ? null : m[1]!;
}

const B3_TRACE_ID = /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/;

/** A B3 `x-b3-traceid` (16 or 32 hex digits), as sent; null when absent or malformed. */
export function b3TraceId(header: string | string[] | undefined): string | null {
  return typeof header === 'string' && B3_TRACE_ID.test(header) && !/^0+$/.test(header) ? header : null;
}
