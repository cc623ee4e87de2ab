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
