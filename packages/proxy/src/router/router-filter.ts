import type { Cluster } from '../cluster/cluster.js';
import type { Host } from '../cluster/host.js';
import type { ActiveStream } from '../http/active-stream.js';
import { copyRequestHeaders } from '../http/headers.js';
import type { FilterStatus, HttpFilter } from '../http/http-filter.js';
import { ResponseFlag } from '../http/stream-info.js';
import { applyHeaderMutations, type HeaderMap } from './header-mutations.js';
import { rewritePath } from './path-rewrite.js';
import { redirectLocation } from './redirect.js';
import type { ForwardAction, RouteEntry, WeightedCluster } from './route.js';
import { UpgradeRequest } from './upgrade-request.js';
import { UpstreamRequest } from './upstream-request.js';
import { pickWeightedCluster } from './weighted-clusters.js';

/** Set on requests to an inbound sidecar: which app port the request is for (the inbound side routes on it). */
export const INBOUND_PORT_HEADER = 'x-trellis-inbound-port';

/**
 * The terminal filter (envoy.filters.http.router): answers direct responses and redirects, picks the
 * cluster (weighted: Envoy's cumulative pick) and an endpoint through the cluster's load balancer, and
 * starts the upstream request. No route: 404 NR; no such cluster: 503 NC; no endpoint: 503 UH.
 */
export class RouterFilter implements HttpFilter {
  readonly name = 'envoy.filters.http.router';

  decodeHeaders(stream: ActiveStream): FilterStatus {
    const route = stream.route;
    if (route === null) {
      stream.sendLocalReply(404, '', ResponseFlag.NR, 'route_not_found');
      return 'stop';
    }
    const action = route.action;
    switch (action.kind) {
      case 'direct':
        stream.sendLocalReply(action.status, action.body ?? '', 0, 'direct_response');
        return 'stop';
      case 'redirect':
        stream.sendLocalReply(action.status, '', 0, 'redirect', { location: redirectLocation(stream, action) });
        return 'stop';
      case 'forward':
        forward(stream, route, action);
        return 'stop';
    }
  }
}

function forward(stream: ActiveStream, route: RouteEntry, action: ForwardAction): void {
  const weighted = action.clusters.kind === 'weighted' ? pickWeightedCluster(action.clusters) : null;
  const clusterName = weighted ? weighted.name : clusterNameOf(stream, action);
  stream.info.clusterName = clusterName;
  stream.clusterResponseMutations = weighted?.responseHeaderMutations ?? null;
  const cluster = stream.snapshot.clusters.get(clusterName);
  if (!cluster) {
    stream.sendLocalReply(action.clusterNotFoundStatus, '', ResponseFlag.NC, 'cluster_not_found');
    return;
  }
  const host = cluster.chooseHost(stream);
  if (!host) {
    stream.sendLocalReply(503, 'no healthy upstream', ResponseFlag.UH, 'no_healthy_upstream');
    return;
  }
  stream.info.upstreamHost = host.address;
  const headers = upstreamHeaders(stream, route, weighted, host);
  const path = action.pathRewrite ? rewritePath(stream.path, action.pathRewrite) : stream.path;
  if (path !== stream.path && !stream.hcm.suppressEnvoyHeaders) headers['x-envoy-original-path'] = stream.path;
  const authority = action.hostRewrite ?? (action.autoHostRewrite && host.endpoint.hostname ? host.endpoint.hostname : stream.authority);
  if (stream.isUpgrade) {
    headers.connection = 'upgrade';
    headers.upgrade = stream.headers.upgrade as string;
    new UpgradeRequest(stream, host).start(stream.method, path, authority, headers);
    return;
  }
  const protocol = upstreamProtocol(stream, cluster);
  const pool = stream.ctx.pools.get(protocol === 'http1' ? host.h1PoolKey : host.h2PoolKey, protocol, host.ip, host.port, host.connectTimeoutMs);
  new UpstreamRequest(stream, action, host).start(pool, { method: stream.method, path, authority, headers, body: stream.body });
}

function clusterNameOf(stream: ActiveStream, action: ForwardAction): string {
  const spec = action.clusters;
  if (spec.kind === 'cluster') return spec.name;
  if (spec.kind === 'header') {
    const v = stream.headers[spec.header];
    return typeof v === 'string' ? v : '';
  }
  return '';
}

/** The request headers for the next hop: copied, edited (weighted cluster, then route levels), tagged. */
function upstreamHeaders(stream: ActiveStream, route: RouteEntry, weighted: WeightedCluster | null, host: Host): HeaderMap {
  const headers = copyRequestHeaders(stream.headers);
  if (weighted?.requestHeaderMutations) applyHeaderMutations(headers, [weighted.requestHeaderMutations]);
  if (route.requestHeaderMutations.length > 0) applyHeaderMutations(headers, route.requestHeaderMutations);
  if (host.targetPortHeader !== null) headers[INBOUND_PORT_HEADER] = host.targetPortHeader;
  return headers;
}

function upstreamProtocol(stream: ActiveStream, cluster: Cluster): 'http1' | 'http2' {
  const p = cluster.config.protocol;
  if (p !== 'downstream') return p;
  return stream.info.protocol === 'HTTP/2' ? 'http2' : 'http1';
}
