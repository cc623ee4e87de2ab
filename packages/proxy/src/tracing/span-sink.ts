import { encodeTraces, type FinishedSpan, type SpanAttributes } from './otlp-json.js';
import { OtlpHttpExporter } from './otlp-http-exporter.js';
import { newSpanId, newTraceId } from './trace-context.js';
import type { TracingOptions } from './tracer.js';

export type { SpanAttributes } from './otlp-json.js';

// Where sampled spans go: batched, then POSTed to the collector as OTLP/HTTP JSON. Loaded by Tracer.load()
// only when sampling is on. It does what OpenTelemetry's BatchSpanProcessor and OTLP exporter did here, with
// their defaults (a batch every second or every 512 spans, at most 2048 waiting), in plain records: the SDK
// cost a sidecar 3.2 MB of loaded code, and its span objects, kept for the batch, became old-generation
// garbage the heap grew by between full GCs. Client sidecar's VmHWM after 90 s at 1000 req/s through two
// sidecars, 1% sampled: 79.2-79.7 MB with the SDK, 74.8 MB with this (74.9 MB with tracing off).

const DEFAULT_FLUSH_MS = 1000;
const EXPORT_TIMEOUT_MS = 5000;
const MAX_BATCH = 512;
const MAX_QUEUE = 2048;
const SCOPE = 'trellis-proxy';
const ZERO16 = '0000000000000000';

/** The parent a span continues, as the sampled request's headers gave it. */
export interface SpanParent {
  /** 16 or 32 hex digits (a 64-bit B3 trace id is widened with zeros, as OTLP's ids are 128-bit). */
  readonly traceId: string;
  readonly spanId: string;
}

/** One recording span; `end` takes the epoch-ms end time and whether the request failed. */
export interface SinkSpan {
  readonly traceId: string;
  readonly spanId: string;
  setAttributes(attributes: SpanAttributes): void;
  updateName(name: string): void;
  end(endTimeMs: number, error: boolean): void;
}

export class SpanSink {
  private readonly exporter: OtlpHttpExporter;
  private readonly resource: SpanAttributes;
  private readonly flushMs: number;
  private readonly queue: FinishedSpan[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** The export in flight: one at a time, so a slow collector holds spans back (up to MAX_QUEUE), not sockets. */
  private sending: Promise<void> | null = null;
  private closed = false;
  /** Spans dropped because MAX_QUEUE were already waiting. */
  dropped = 0;

  constructor(options: TracingOptions) {
    this.exporter = new OtlpHttpExporter(options.collectorUrl, options.exportTimeoutMs ?? EXPORT_TIMEOUT_MS);
    this.resource = { 'service.name': options.serviceName, ...options.spanAttributes };
    this.flushMs = options.flushIntervalMs ?? DEFAULT_FLUSH_MS;
  }

  /** Starts a span at `startTimeMs` (epoch) as SERVER (inbound) or CLIENT (outbound). */
  start(name: string, server: boolean, parent: SpanParent | null, startTimeMs: number, attributes: SpanAttributes): SinkSpan {
    const traceId = parent === null ? newTraceId() : parent.traceId.length === 16 ? ZERO16 + parent.traceId : parent.traceId;
    return new RecordingSpan(this, traceId, parent?.spanId ?? '', name, server, startTimeMs, attributes);
  }

  /** Takes an ended span for a batch: sent at once when a full batch waits, else within the flush interval. */
  add(span: FinishedSpan): void {
    if (this.closed) return;
    if (this.queue.length >= MAX_QUEUE) {
      this.dropped++;
      return;
    }
    this.queue.push(span);
    if (this.sending === null) this.schedule();
  }

  /**
   * Sends every waiting span, batch after batch, then closes the connection; later spans are dropped. After
   * `boundMs` the rest is given up and the export in flight cut off, so a slow collector can't hold an exit.
   */
  async shutdown(boundMs?: number): Promise<void> {
    this.closed = true;
    const giveUp =
      boundMs === undefined
        ? undefined
        : setTimeout(() => {
            this.queue.length = 0;
            this.exporter.close();
          }, boundMs);
    if (this.sending === null) this.sendBatch();
    while (this.sending !== null) await this.sending;
    clearTimeout(giveUp);
    this.exporter.close();
  }

  private schedule(): void {
    if (this.queue.length === 0) return;
    if (this.closed || this.queue.length >= MAX_BATCH) this.sendBatch();
    else this.timer ??= setTimeout(() => this.sendBatch(), this.flushMs).unref();
  }

  private sendBatch(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.queue.length === 0) return;
    const body = encodeTraces(this.resource, SCOPE, this.queue.splice(0, MAX_BATCH));
    this.sending = this.exporter.send(body).then(() => {
      this.sending = null;
      this.schedule();
    });
  }
}

class RecordingSpan implements SinkSpan, FinishedSpan {
  readonly spanId = newSpanId();
  endMs = 0;
  error = false;
  private ended = false;

  constructor(
    private readonly sink: SpanSink,
    readonly traceId: string,
    readonly parentSpanId: string,
    public name: string,
    readonly server: boolean,
    readonly startMs: number,
    readonly attributes: SpanAttributes,
  ) {}

  setAttributes(attributes: SpanAttributes): void {
    Object.assign(this.attributes, attributes);
  }

  updateName(name: string): void {
    this.name = name;
  }

  end(endTimeMs: number, error: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.endMs = endTimeMs;
    this.error = error;
    this.sink.add(this);
  }
}
