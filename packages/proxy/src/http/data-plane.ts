import type { Cluster } from '../cluster/cluster.js';
import type { CompiledConfig, HttpConnectionManagerConfig } from '../config/compiled-config.js';
import type { UpstreamPools } from '../upstream/upstream-pools.js';
import type { StreamInfo } from './stream-info.js';

/** The config and clusters one request runs against, captured when it starts (a swap never changes it). */
export interface DataPlaneSnapshot {
  readonly config: CompiledConfig;
  readonly clusters: ReadonlyMap<string, Cluster>;
}

/** Called once per finished request (Envoy's access log); telemetry hangs off this. */
export type AccessLogSink = (info: StreamInfo) => void;

/** What a listener hands each request: its HCM config, the current snapshot, and shared services. */
export interface ListenerContext {
  readonly listenerName: string;
  readonly hcm: HttpConnectionManagerConfig;
  readonly snapshot: DataPlaneSnapshot;
  readonly pools: UpstreamPools;
  readonly accessLog: AccessLogSink | null;
}
