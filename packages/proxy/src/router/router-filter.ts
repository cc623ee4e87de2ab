import type { ActiveStream } from '../http/active-stream.js';
import type { FilterStatus, HttpFilter } from '../http/http-filter.js';
import { ResponseFlag } from '../http/stream-info.js';
import type { HeaderMap } from './header-mutations.js';
import { rewritePath } from './path-rewrite.js';
import { redirectLocation } from './redirect.js';
import type { ForwardAction, RouteEntry } from './route.js';
import { RouterRequest } from './router-request.js';
import { UpgradeRequest } from './upgrade-request.js';
import { upstreamAuthority, upstreamHeaders } from './upstream-target.js';
import { chosenWeightedCluster } from './weighted-clusters.js';

export { INBOUND_PORT_HEADER } from './upstream-target.js';

/**
 * The terminal filter (envoy.filters.http.router): answers direct responses and redirects, picks the
 * cluster (weighted: Envoy's cumulative pick) and an endpoint through the cluster's load balancer, and hands
 * the request to a RouterRequest (attempts, retries, timeouts, shadows). No route: 404 NR; no such
 * cluster: 503 NC; no endpoint: 503 UH.
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

  /** A cookie generated for hash_policy (cookie with ttl) goes on the upstream's response, as in Envoy. */
  encodeHeaders(stream: ActiveStream, _status: number, headers: HeaderMap): void {
    const cookie = stream.lbHash?.setCookie;
    if (!cookie || stream.info.responseCodeDetails !== '') return;
    const existing = headers['set-cookie'];
    headers['set-cookie'] = existing === undefined ? cookie : Array.isArray(existing) ? [...existing, cookie] : [existing, cookie];
  }
}

function forward(stream: ActiveStream, route: RouteEntry, action: ForwardAction): void {
  const weighted = action.clusters.kind === 'weighted' ? chosenWeightedCluster(stream, action.clusters) : null;
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
  if (stream.isUpgrade) {
    stream.info.upstreamHost = host.address;
    stream.info.upstream = host;
    const headers = upstreamHeaders(stream, route, weighted, host);
    const path = action.pathRewrite ? rewritePath(stream.path, action.pathRewrite) : stream.path;
    if (path !== stream.path && !stream.hcm.suppressEnvoyHeaders) headers['x-envoy-original-path'] = stream.path;
    const authority = upstreamAuthority(stream, action, weighted, host);
    headers.connection = 'upgrade';
    headers.upgrade = stream.headers.upgrade as string;
    new UpgradeRequest(stream, host).start(stream.method, path, authority, headers);
    return;
  }
  new RouterRequest(stream, route, action, cluster, weighted).start(host);
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

/**
 * The cluster the request's route sends it to ('' when it doesn't forward): for weighted clusters the pick
 * is made now and kept, so filters (fault's upstream_cluster) and the router agree.
 */
export function routeClusterName(stream: ActiveStream): string {
  const route = stream.route;
  if (route === null || route.action.kind !== 'forward') return '';
  const spec = route.action.clusters;
  return spec.kind === 'weighted' ? chosenWeightedCluster(stream, spec).name : clusterNameOf(stream, route.action);
}
