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
export { SIDECAR_NODE_FLAGS } from './runtime-flags.js';
export { Tracer, type TracingOptions } from './tracing/tracer.js';
export { tracingOptions, DEFAULT_TRACE_SAMPLING, DEFAULT_COLLECTOR_PORT, type TracingFlags } from './tracing/tracing-settings.js';
export { extractContext, injectContext, TraceFormat, type ParentContext, type ExtractedContext, type OutgoingContext } from './tracing/trace-context.js';
export { SidecarTelemetry, type TelemetryOptions } from './telemetry/sidecar-telemetry.js';
export { IstioMetrics, DURATION_BUCKETS_MS, BYTES_BUCKETS } from './telemetry/istio-metrics.js';
export { PEER_METADATA_HEADER, encodePeerMetadata, decodePeerMetadata } from './telemetry/peer-metadata.js';
export { workloadFromIdentity, UNKNOWN_WORKLOAD, type WorkloadInfo, type WorkloadIdentityInput } from './telemetry/workload-info.js';
export { AccessLogWriter, STDOUT as ACCESS_LOG_STDOUT, type AccessLogWriterOptions } from './access-log/access-log-writer.js';
export { accessLogEntry, formatAccessLogLine, type AccessLogEntry } from './access-log/access-log-format.js';
export { compileConfig } from './config/compile.js';
export { compileSafeRegex, compileSafeRegexSearch } from './config/safe-regex.js';
export type * from './config/compiled-config.js';
export { StreamInfo, ResponseFlag, formatResponseFlags, type ResponseFlagName } from './http/stream-info.js';
export type { AccessLogSink, StreamCompleteSink, TrafficDirection, DataPlaneSnapshot, ListenerContext } from './http/data-plane.js';
export type { ActiveStream } from './http/active-stream.js';
export type { HttpFilter, FilterStatus } from './http/http-filter.js';
export { HTTP_FILTER_KINDS, type HttpFilterKind } from './http/filter-registry.js';
export type { LoadBalancer, LoadBalancerContext, LoadBalancerFactory } from './cluster/load-balancer.js';
export type { Cluster } from './cluster/cluster.js';
export type { Host, HostStats } from './cluster/host.js';
export { RouteTable } from './router/route-table.js';
export { INBOUND_PORT_HEADER } from './router/router-filter.js';
