import type { Host } from '../cluster/host.js';

/**
 * Envoy's response flags, as bits (a stream can carry several). Names and meanings follow Envoy's
 * `%RESPONSE_FLAGS%`.
 */
export const ResponseFlag = {
  /** No route configured for the request. */
  NR: 1 << 0,
  /** No healthy upstream host. */
  UH: 1 << 1,
  /** Upstream connection failure. */
  UF: 1 << 2,
  /** Upstream connection termination. */
  UC: 1 << 3,
  /** Upstream remote reset. */
  UR: 1 << 4,
  /** Upstream request timeout. */
  UT: 1 << 5,
  /** Downstream connection termination. */
  DC: 1 << 6,
  /** No cluster found for the route's cluster name. */
  NC: 1 << 7,
  /** Upstream overflow (circuit breaking). */
  UO: 1 << 8,
  /** Upstream retry limit exceeded. */
  URX: 1 << 9,
  /** Request delayed by fault injection. */
  DI: 1 << 10,
  /** Request aborted by fault injection. */
  FI: 1 << 11,
  /** Local reset of the upstream stream. */
  LR: 1 << 12,
  /** Downstream protocol error. */
  DPE: 1 << 13,
} as const;

export type ResponseFlagName = keyof typeof ResponseFlag;

const FLAG_NAMES = Object.keys(ResponseFlag) as ResponseFlagName[];

/** Envoy's rendering: names joined by ',', `-` when none. */
export function formatResponseFlags(flags: number): string {
  if (flags === 0) return '-';
  let out = '';
  for (const name of FLAG_NAMES) {
    if (flags & ResponseFlag[name]) out = out === '' ? name : `${out},${name}`;
  }
  return out;
}

/**
 * What happened to one request, for access logs and telemetry (Envoy's StreamInfo). One per request,
 * filled in as the request passes the stages; read once it completes.
 */
export class StreamInfo {
  /** Epoch milliseconds. */
  readonly startTime = Date.now();
  /** High-resolution start, for durations. */
  readonly startMonotonic = performance.now();
  durationMs = -1;
  protocol: 'HTTP/1.1' | 'HTTP/2' = 'HTTP/1.1';
  listenerName = '';
  routeConfigName = '';
  virtualHostName = '';
  routeName = '';
  clusterName = '';
  /** `ip:port` of the chosen endpoint. */
  upstreamHost = '';
  responseCode = 0;
  responseFlags = 0;
  /** Envoy's response code details for local replies (e.g. `route_not_found`), '' when proxied. */
  responseCodeDetails = '';
  bytesSent = 0;
  /** Request body bytes read from the downstream (set when the stream completes). */
  bytesReceived = 0;
  /** The response's `grpc-status` (trailers, or headers of a trailers-only response); '' when none. */
  grpcStatus = '';
  /** The endpoint of the last upstream attempt (its metadata names the destination in telemetry), or null. */
  upstream: Host | null = null;
  /** Inbound: the caller's x-envoy-peer-metadata, taken off the request before routing; '' when none. */
  downstreamPeerMetadata = '';
  requestId = '';
  downstreamRemoteAddress = '';
  /** Time to the upstream's response headers, ms; -1 if none came. */
  upstreamServiceTimeMs = -1;

  setFlag(flag: number): void {
    this.responseFlags |= flag;
  }

  hasFlag(flag: number): boolean {
    return (this.responseFlags & flag) !== 0;
  }

  get responseFlagsString(): string {
    return formatResponseFlags(this.responseFlags);
  }
}
