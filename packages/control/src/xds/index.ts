export { XdsServer, type XdsServerOptions, type XdsServerEvents, type ConnectionEvent, type IdentifyFn, type PushSummary } from './server.js';
export type { GenerateFn } from './connection.js';
export { XdsMetrics, metricType } from './metrics.js';
export { syncState, type ProxyStatus, type TypeStatus, type NackStatus, type SyncState, type SyncFacts } from './status.js';
export { contentVersion } from './versions.js';
