import type { Cluster } from '../cluster/cluster.js';
import type { Host } from '../cluster/host.js';
import type { ActiveStream } from '../http/active-stream.js';
import { copyRequestHeaders } from '../http/headers.js';
import { PEER_METADATA_HEADER } from '../telemetry/peer-metadata.js';
import type { ConnectionPool } from '../upstream/connection-pool.js';
import { applyHeaderMutations, type HeaderMap } from './header-mutations.js';
import type { ForwardAction, RouteEntry, WeightedCluster } from './route.js';

/** Set on requests to an inbound sidecar: which app port the request is for (the inbound side routes on it). */
export const INBOUND_PORT_HEADER = 'x-trellis-inbound-port';

/**
 * The request headers for one upstream request (an attempt or a shadow) to `host`: copied, edited
 * (weighted cluster, then route levels), tagged with the host's inbound port. Built afresh for each one,
 * since the pool takes ownership of the map.
 */
export function upstreamHeaders(stream: ActiveStream, route: RouteEntry, weighted: WeightedCluster | null, host: Host): HeaderMap {
  const headers = copyRequestHeaders(stream.headers, route.requestHeaderMutations, weighted?.requestHeaderMutations ?? null);
  if (weighted?.requestHeaderMutations) applyHeaderMutations(headers, [weighted.requestHeaderMutations]);
  if (route.requestHeaderMutations.length > 0) applyHeaderMutations(headers, route.requestHeaderMutations);
  if (host.targetPortHeader !== null) {
    headers[INBOUND_PORT_HEADER] = host.targetPortHeader;
    // Only a sidecar'd endpoint is told who calls (telemetry's source); a plain app never sees the header.
    const peer = stream.ctx.peerMetadata;
    if (peer !== null) headers[PEER_METADATA_HEADER] = peer;
  }
  return headers;
}

/**
 * The authority for an upstream request to `host`: the route's host_rewrite_literal, else the weighted
 * cluster's (Envoy applies the route's last, so it wins), else the endpoint's hostname with
 * auto_host_rewrite, else the request's own.
 */
export function upstreamAuthority(stream: ActiveStream, action: ForwardAction, weighted: WeightedCluster | null, host: Host): string {
  if (action.hostRewrite !== null) return action.hostRewrite;
  if (weighted !== null && weighted.hostRewrite !== null) return weighted.hostRewrite;
  if (action.autoHostRewrite && host.endpoint.hostname) return host.endpoint.hostname;
  return stream.authority;
}

/** The pool for `host` in the cluster's upstream protocol (or the downstream's, when the cluster says so). */
export function upstreamPool(stream: ActiveStream, cluster: Cluster, host: Host): ConnectionPool {
  const p = cluster.config.protocol;
  const protocol = p !== 'downstream' ? p : stream.info.protocol === 'HTTP/2' ? 'http2' : 'http1';
  return stream.ctx.pools.get(protocol === 'http1' ? host.h1PoolKey : host.h2PoolKey, protocol, host.ip, host.port, host.connectTimeoutMs);
}
