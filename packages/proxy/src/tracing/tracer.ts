import type { SpanSink } from './span-sink.js';

const CLOSE_BOUND_MS = 2000;

/** The sidecar's tracing settings (flags / TRELLIS_TRACE_* variables), fixed for its lifetime. */
export interface TracingOptions {
  /** Percent (0–100) of requests without a parent decision that start a sampled trace, unless the HCM's `tracing.random_sampling` says otherwise. */
  readonly samplingPercent: number;
  /** OTLP/HTTP JSON endpoint, e.g. http://127.0.0.1:4318/v1/traces. */
  readonly collectorUrl: string;
  /** OpenTelemetry `service.name`: the workload's canonical service and namespace, e.g. `productpage.default`. */
  readonly serviceName: string;
  /** Mesh attributes every span carries (`node_id`, `istio.canonical_service`, `istio.namespace`, ...). */
  readonly spanAttributes: Readonly<Record<string, string>>;
  /** How often batched spans are sent (BatchSpanProcessor's scheduled delay). */
  readonly flushIntervalMs?: number;
  /** How long one export may take before its batch is given up (default 5 s). */
  readonly exportTimeoutMs?: number;
}

/**
 * The sidecar's tracer: the sampling default, and the part that batches and exports spans (`SpanSink`),
 * loaded only when a request is first sampled (or at start when sampling is on), so a sidecar that never
 * samples never loads it.
 */
export class Tracer {
  /** The loaded span sink; null until `load()` has finished. */
  sink: SpanSink | null = null;
  private loading: Promise<SpanSink> | null = null;
  private closed = false;

  constructor(readonly options: TracingOptions) {}

  get samplingPercent(): number {
    return this.options.samplingPercent;
  }

  /** Loads the span sink once; concurrent callers share the load. */
  load(): Promise<SpanSink> {
    this.loading ??= import('./span-sink.js').then(({ SpanSink }) => {
      const sink = new SpanSink(this.options);
      if (this.closed) void sink.shutdown();
      else this.sink = sink;
      return sink;
    });
    return this.loading;
  }

  /** Sends what is still batched and stops exporting; an unreachable collector holds a shutdown up for at most `boundMs`. */
  async close(boundMs = CLOSE_BOUND_MS): Promise<void> {
    this.closed = true;
    const sink = this.sink ?? (this.loading ? await this.loading.catch(() => null) : null);
    this.sink = null;
    await sink?.shutdown(boundMs);
  }
}
