import type { Cluster } from '../cluster/cluster.js';
import type { CompiledConfig, HttpConnectionManagerConfig } from '../config/compiled-config.js';
import type { ListenerTlsConfig } from '../config/compile-downstream-tls.js';
import type { UpstreamPools } from '../upstream/upstream-pools.js';
import type { ActiveStream } from './active-stream.js';
import type { StreamInfo } from './stream-info.js';

/** The config and clusters one request runs against, captured when it starts (a swap never changes it). */
export interface DataPlaneSnapshot {
  readonly config: CompiledConfig;
  readonly clusters: ReadonlyMap<string, Cluster>;
}

/** Called once per finished request (Envoy's access log); telemetry hangs off this. */
export type AccessLogSink = (info: StreamInfo) => void;

/**
 * Told once per finished request (metrics, access logs): what happened (`info`) and the stream it happened
 * to, or null for a request the codec refused before a stream existed. Must not throw into the data path
 * (a throw is caught and dropped).
 */
export type StreamCompleteSink = (info: StreamInfo, stream: ActiveStream | null) => void;

/** Envoy's listener traffic_direction: which side of the pod the listener faces. */
export type TrafficDirection = 'INBOUND' | 'OUTBOUND' | 'UNSPECIFIED';

/** What a listener hands each request: its HCM config, the current snapshot, and shared services. */
export interface ListenerContext {
  readonly listenerName: string;
  readonly hcm: HttpConnectionManagerConfig;
  /** A TLS listener's chains (each with its own connection manager); absent or null for plaintext listeners. */
  readonly tls?: ListenerTlsConfig | null;
  readonly snapshot: DataPlaneSnapshot;
  readonly pools: UpstreamPools;
  /** Completion sinks, in order; empty when nothing records requests. */
  readonly onStreamComplete: readonly StreamCompleteSink[];
  readonly direction: TrafficDirection;
  /**
   * Outbound: the x-envoy-peer-metadata value sent to endpoints that are sidecars (telemetry's source
   * identity); null sends none.
   */
  readonly peerMetadata: string | null;
}
