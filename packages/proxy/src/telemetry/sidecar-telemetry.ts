import { Counter, Registry } from 'prom-client';
import { AccessLogWriter, type AccessLogWriterOptions } from '../access-log/access-log-writer.js';
import type { Cluster } from '../cluster/cluster.js';
import type { AccessLogConfig } from '../config/compile-access-log.js';
import type { AccessLogSink, StreamCompleteSink } from '../http/data-plane.js';
import { registerClusterMetrics } from './cluster-metrics.js';
import { IstioMetrics } from './istio-metrics.js';
import { encodePeerMetadata } from './peer-metadata.js';
import { UNKNOWN, workloadFromIdentity, type WorkloadIdentityInput, type WorkloadInfo } from './workload-info.js';

export interface TelemetryOptions {
  /** Who the sidecar is (labels its own side of every metric); absent: "unknown" everywhere. */
  readonly workload?: WorkloadIdentityInput;
  /** Access log destination: a file path, or `-` for stdout; absent: no access log. */
  readonly accessLogPath?: string;
  readonly accessLogOptions?: AccessLogWriterOptions;
  /** False: Istio's request metrics are not recorded (Envoy's cluster stats, read at scrape time, stay). */
  readonly istioMetrics?: boolean;
}

/**
 * A sidecar's telemetry: its own prom-client Registry (never the global one) with Istio's standard metrics
 * and Envoy's cluster stats, the access log, and the peer metadata it announces to the sidecars it calls.
 */
export class SidecarTelemetry {
  readonly registry = new Registry();
  readonly self: WorkloadInfo;
  readonly metrics: IstioMetrics;
  readonly accessLog: AccessLogWriter | null;
  /** The x-envoy-peer-metadata value sent upstream; null when the sidecar doesn't know who it is. */
  readonly peerMetadata: string | null;
  /** What listeners call at each stream's end, in order. */
  readonly sinks: readonly StreamCompleteSink[];
  /** Every access log writer by path: the sidecar's own and those HCM configs asked for. */
  private readonly writers = new Map<string, AccessLogWriter>();
  private readonly sinkLists = new Map<string, readonly StreamCompleteSink[]>();
  private readonly writerOptions: AccessLogWriterOptions;

  constructor(options: TelemetryOptions, clusters: () => ReadonlyMap<string, Cluster>, extraSink?: AccessLogSink, log?: (msg: string) => void) {
    this.self = options.workload ? workloadFromIdentity(options.workload) : workloadFromIdentity({ workloadName: UNKNOWN, namespace: UNKNOWN, labels: {} });
    this.peerMetadata = options.workload ? encodePeerMetadata(this.self) : null;
    this.metrics = new IstioMetrics(this.registry, this.self);
    registerClusterMetrics(this.registry, clusters);
    this.writerOptions = { onError: log, ...options.accessLogOptions };
    this.accessLog = options.accessLogPath ? new AccessLogWriter(options.accessLogPath, this.writerOptions) : null;
    const writer = this.accessLog;
    const writers = this.writers;
    if (writer !== null) writers.set(writer.path, writer);
    new Counter({
      name: 'trellis_access_log_dropped_total',
      help: 'Access log lines dropped because the log could not keep up (or could not be written).',
      registers: [this.registry],
      collect(this: Counter) {
        this.reset();
        let dropped = 0;
        for (const w of writers.values()) dropped += w.dropped;
        this.inc(dropped);
      },
    });
    const sinks: StreamCompleteSink[] = options.istioMetrics === false ? [] : [this.metrics.sink];
    if (writer !== null) sinks.push(writer.sink);
    if (extraSink) sinks.push(extraSink);
    this.sinks = sinks;
  }

  /**
   * The sinks for a listener whose HCM has `access_log` entries: the sidecar's own, plus a writer per
   * configured path (one writer per path, shared by listeners, kept until the sidecar closes).
   */
  sinksFor(logs: readonly AccessLogConfig[]): readonly StreamCompleteSink[] {
    if (logs.length === 0) return this.sinks;
    const key = logs.map((l) => l.path).join('\u0000');
    let list = this.sinkLists.get(key);
    if (list === undefined) {
      const extra = new Set<StreamCompleteSink>();
      for (const { path } of logs) {
        let w = this.writers.get(path);
        if (w === undefined) this.writers.set(path, (w = new AccessLogWriter(path, this.writerOptions)));
        if (w !== this.accessLog) extra.add(w.sink);
      }
      list = [...this.sinks, ...extra];
      this.sinkLists.set(key, list);
    }
    return list;
  }

  /** Writes out the access logs and closes them. */
  async close(): Promise<void> {
    await Promise.all([...this.writers.values()].map((w) => w.close()));
  }
}
