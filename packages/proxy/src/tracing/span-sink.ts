import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Attributes, type Span, type Tracer as OtelTracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { newSpanId, newTraceId } from './trace-context.js';
import type { TracingOptions } from './tracer.js';

// The OpenTelemetry SDK side of tracing, loaded by Tracer.load() only once a request is sampled: spans
// go through a BatchSpanProcessor to an OTLP/HTTP (JSON) exporter.

const DEFAULT_FLUSH_MS = 1000;
const EXPORT_TIMEOUT_MS = 5000;
const ZERO16 = '0000000000000000';

/** The parent a span continues, as the sampled request's headers gave it. */
export interface SpanParent {
  /** 16 or 32 hex digits (a 64-bit B3 trace id is widened with zeros for OpenTelemetry). */
  readonly traceId: string;
  readonly spanId: string;
}

/** One recording span; `end` takes the epoch-ms end time and the attributes known only then. */
export interface SinkSpan {
  readonly traceId: string;
  readonly spanId: string;
  setAttributes(attributes: Attributes): void;
  updateName(name: string): void;
  end(endTimeMs: number, error: boolean): void;
}

export class OtelSpanSink {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: OtelTracer;

  constructor(options: TracingOptions) {
    // A collector that is down costs a batch, not the sidecar: exports give up after EXPORT_TIMEOUT_MS.
    const exporter = new OTLPTraceExporter({ url: options.collectorUrl, timeoutMillis: EXPORT_TIMEOUT_MS });
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName, ...options.spanAttributes }),
      // The sidecar decided already (its rate, or the parent's flag): whatever reaches the SDK records.
      sampler: new AlwaysOnSampler(),
      idGenerator: { generateTraceId: newTraceId, generateSpanId: newSpanId },
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: options.flushIntervalMs ?? DEFAULT_FLUSH_MS })],
    });
    this.tracer = this.provider.getTracer('trellis-proxy');
  }

  /** Starts a span now-ish (`startTimeMs`, epoch) as SERVER (inbound) or CLIENT (outbound). */
  start(name: string, server: boolean, parent: SpanParent | null, startTimeMs: number, attributes: Attributes): SinkSpan {
    const ctx =
      parent === null
        ? ROOT_CONTEXT
        : trace.setSpanContext(ROOT_CONTEXT, {
            traceId: parent.traceId.length === 16 ? ZERO16 + parent.traceId : parent.traceId,
            spanId: parent.spanId,
            traceFlags: TraceFlags.SAMPLED,
            isRemote: true,
          });
    const span = this.tracer.startSpan(name, { kind: server ? SpanKind.SERVER : SpanKind.CLIENT, startTime: startTimeMs, attributes }, ctx);
    return new RecordingSpan(span);
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

class RecordingSpan implements SinkSpan {
  readonly traceId: string;
  readonly spanId: string;

  constructor(private readonly span: Span) {
    const sc = span.spanContext();
    this.traceId = sc.traceId;
    this.spanId = sc.spanId;
  }

  setAttributes(attributes: Attributes): void {
    this.span.setAttributes(attributes);
  }

  updateName(name: string): void {
    this.span.updateName(name);
  }

  end(endTimeMs: number, error: boolean): void {
    if (error) this.span.setStatus({ code: SpanStatusCode.ERROR });
    this.span.end(endTimeMs);
  }
}

export type SpanSink = OtelSpanSink;
