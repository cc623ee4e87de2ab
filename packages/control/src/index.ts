// Control plane
export { ControlPlane, type ControlPlaneOptions } from './control-plane.js';
export { DirectorySource, type FileStatus } from './sources/directory-source.js';
export { WorkloadStore } from './registry/workload-store.js';
export * from './xds/index.js';
export { startDebugServer } from './debug/server.js';
export type * from './registry/types.js';
export type { ProxyIdentity } from './registry/proxy-identity.js';
export type * from './translate/types.js';
// Model (parse, validate, analyze)
export { MeshConfig } from './model/mesh-config.js';
export { formatIssue, type ConfigIssue } from './model/issues.js';
export * from './model/objects.js';
export type * from './model/istio-types.js';
export type * from './model/kube-types.js';
