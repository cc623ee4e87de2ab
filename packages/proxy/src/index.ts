// xDS client (RawSnapshot/ConfigRejected are what AdsClient's validate/onUpdate speak)
export { EMPTY_SNAPSHOT, withResources, ConfigRejected, type RawSnapshot } from './config/raw-snapshot.js';
export {
  sidecarIdentity,
  toXdsNode,
  xdsNodeId,
  IdentityError,
  DEFAULT_PROXY_PORTS,
  DEFAULT_CONTROL_PLANE_PORT,
  type SidecarIdentity,
  type SidecarFlags,
  type ProxyPorts,
  type AppPort,
} from './bootstrap/identity.js';
export { AdsClient, type AdsClientOptions, type AdsTypeStatus, type AdsError } from './xds/ads-client.js';
export { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './xds/backoff.js';
export {
  RESOURCE_TYPES,
  XdsResourceType,
  ListenerResourceType,
  RouteResourceType,
  ClusterResourceType,
  EndpointResourceType,
} from './xds/resource-types/index.js';

// data path
export { Sidecar, type SidecarOptions, type SidecarPorts } from './sidecar.js';
export { compileConfig } from './config/compile.js';
export { compileSafeRegex, compileSafeRegexSearch } from './config/safe-regex.js';
export type * from './config/compiled-config.js';
export { StreamInfo, ResponseFlag, formatResponseFlags, type ResponseFlagName } from './http/stream-info.js';
export type { AccessLogSink, DataPlaneSnapshot, ListenerContext } from './http/data-plane.js';
export type { ActiveStream } from './http/active-stream.js';
export type { HttpFilter, FilterStatus } from './http/http-filter.js';
export { HTTP_FILTER_KINDS, type HttpFilterKind } from './http/filter-registry.js';
export type { LoadBalancer, LoadBalancerContext, LoadBalancerFactory } from './cluster/load-balancer.js';
export type { Cluster } from './cluster/cluster.js';
export type { Host, HostStats } from './cluster/host.js';
export { RouteTable } from './router/route-table.js';
export { INBOUND_PORT_HEADER } from './router/router-filter.js';
