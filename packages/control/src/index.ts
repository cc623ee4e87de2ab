// Control plane
export { ControlPlane, type ControlPlaneOptions } from './control-plane.js';
export { DirectorySource, type FileStatus } from './sources/directory-source.js';
export { WorkloadStore } from './registry/workload-store.js';
export * from './xds/index.js';
export { startDebugServer } from './debug/server.js';
export type * from './registry/types.js';
export { parseNode, type ProxyIdentity } from './registry/proxy-identity.js';
export type * from './translate/types.js';
export { generateResources } from './translate/index.js';
// Model (parse, validate, load, analyze; objects and their types)
export * from './model/index.js';
// Sidecar injection, local mode, the UI/CLI API
export * from './inject/index.js';
export * from './local/index.js';
export { startApiServer, type ApiServer, type ApiServerOptions } from './api/server.js';
// Telemetry: the trace collector (OTLP/HTTP receiver and its bounded store)
export { TraceStore, DEFAULT_TRACE_LIMITS, type StoredSpan, type TraceSummary, type TraceStoreLimits, type AttributeValue } from './telemetry/trace-store.js';
export { startCollectorServer, type CollectorServer } from './telemetry/collector-server.js';
export { decodeOtlpTraces } from './telemetry/otlp-json.js';
export { localPodJson, configPodJson, podList, type PodJson, type PodListJson, type ContainerStatusJson, type ContainerStateJson } from './api/pods.js';
