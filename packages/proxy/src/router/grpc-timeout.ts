import type { IncomingHttpHeaders } from 'node:http';
import type { ForwardAction } from './route.js';

const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** The `grpc-timeout` header (gRPC's PROTOCOL-HTTP2: 1-8 digits and a unit) in ms; null when absent or malformed. */
export function parseGrpcTimeout(v: string | string[] | undefined): number | null {
  if (typeof v !== 'string' || v.length < 2 || v.length > 9) return null;
  const unit = UNIT_MS[v[v.length - 1]!];
  const digits = v.slice(0, -1);
  if (unit === undefined || !/^\d+$/.test(digits)) return null;
  return Number(digits) * unit;
}

function isGrpc(headers: IncomingHttpHeaders): boolean {
  const ct = headers['content-type'];
  return typeof ct === 'string' && ct.startsWith('application/grpc');
}

/**
 * The route timeout for a request (0: none). For gRPC requests on a route with `max_grpc_timeout`, Envoy
 * uses the `grpc-timeout` header instead (less `grpc_timeout_offset` when it is larger than that; no header
 * is infinity), capped at `max_grpc_timeout` unless that is 0. Istio sets it to the route timeout.
 */
export function routeTimeoutMs(action: ForwardAction, headers: IncomingHttpHeaders): number {
  const max = action.maxGrpcTimeoutMs;
  if (max === null || !isGrpc(headers)) return action.timeoutMs;
  const header = parseGrpcTimeout(headers['grpc-timeout']);
  const offset = action.grpcTimeoutOffsetMs;
  let t = header === null ? 0 : offset > 0 && header > offset ? header - offset : header;
  if (max > 0 && (t === 0 || t > max)) t = max;
  return t;
}

/**
 * max_stream_duration for a request (0: none): with `grpc_timeout_header_max` set, a gRPC request's
 * `grpc-timeout` (less `grpc_timeout_header_offset`; at least 1 ms, since a spent deadline ends the stream
 * at once) replaces it, capped at the max unless that is 0.
 */
export function maxStreamDurationMs(action: ForwardAction, headers: IncomingHttpHeaders): number {
  const max = action.grpcTimeoutHeaderMaxMs;
  if (max === null || !isGrpc(headers)) return action.maxStreamDurationMs;
  const header = parseGrpcTimeout(headers['grpc-timeout']);
  if (header === null) return action.maxStreamDurationMs;
  const t = Math.max(1, header - action.grpcTimeoutHeaderOffsetMs);
  return max > 0 ? Math.min(t, max) : t;
}
