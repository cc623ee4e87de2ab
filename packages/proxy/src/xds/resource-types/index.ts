import type { ResourceKind } from '@trellis/envoy-api';
import { ClusterResourceType } from './cluster.js';
import { EndpointResourceType } from './endpoint.js';
import { ListenerResourceType } from './listener.js';
import type { XdsResourceType } from './resource-type.js';
import { RouteResourceType } from './route.js';

export { XdsResourceType, type DecodeResult, type Problem } from './resource-type.js';
export { ClusterResourceType, EndpointResourceType, ListenerResourceType, RouteResourceType };

/** The four resource types a sidecar subscribes to, by kind. */
export const RESOURCE_TYPES: Readonly<Record<ResourceKind, XdsResourceType>> = Object.freeze({
  listener: new ListenerResourceType(),
  route: new RouteResourceType(),
  cluster: new ClusterResourceType(),
  endpoint: new EndpointResourceType(),
});

/** Which type a type's resources reference: listeners name routes (RDS), clusters name endpoints (EDS). */
export const DEPENDENT_KIND: Readonly<Partial<Record<ResourceKind, ResourceKind>>> = Object.freeze({
  listener: 'route',
  cluster: 'endpoint',
});
