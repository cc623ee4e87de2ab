import type { HcmTracingConfig } from '../../config/compile-tracing.js';
import { sample } from '../../config/fractional-percent.js';
import type { SinkSpan, SpanAttributes, SpanSink } from '../../tracing/span-sink.js';
import { extractContext, injectContext, newSpanId, newTraceId, type ExtractedContext } from '../../tracing/trace-context.js';
import type { Tracer } from '../../tracing/tracer.js';
import type { ActiveStream, StreamCompleteHook } from '../active-stream.js';
import type { FilterStatus, HttpFilter } from '../http-filter.js';

export const TRACING_FILTER_NAME = 'trellis.filters.http.tracing';

/**
 * The sidecar's part in a trace (what Envoy's HCM does when `tracing` is set), first in the chain: reads
 * the caller's context (W3C, B3 multi, B3 single), decides sampling (the caller's flag, else this
 * listener's rate), and rewrites the trace headers the router copies upstream with this hop's span id.
 * Only sampled requests get a span (SERVER on the inbound listener, CLIENT on the outbound one), ended
 * when the stream completes; the others only get their headers rewritten.
 */
export class TracingFilter implements HttpFilter {
  readonly name = TRACING_FILTER_NAME;
  private readonly rate: number;
  private readonly maxPathLength: number;

  constructor(
    private readonly tracer: Tracer,
    private readonly config: HcmTracingConfig | null,
    /** Inbound listener: the span is the SERVER side of the hop. */
    private readonly server: boolean,
  ) {
    this.rate = (config?.randomSampling ?? tracer.samplingPercent) / 100;
    this.maxPathLength = config?.maxPathTagLength ?? 256;
  }

  decodeHeaders(stream: ActiveStream): FilterStatus {
    const ctx = extractContext(stream.headers);
    const parent = ctx.parent;
    let sampled = parent !== null ? parent.sampled : ctx.decision;
    if (sampled === null) sampled = sample(this.rate);
    if (!sampled) {
      injectContext(stream.headers, {
        traceId: parent?.traceId ?? newTraceId(),
        spanId: newSpanId(),
        parentSpanId: parent?.spanId ?? null,
        sampled: false,
        debug: false,
        tracestate: parent?.tracestate ?? '',
      }, ctx.formats);
      return 'continue';
    }
    const sink = this.tracer.sink;
    if (sink !== null) {
      this.startSpan(stream, sink, ctx);
      return 'continue';
    }
    // The first sampled request loads the span sink; it waits for it (once per process).
    this.tracer.load().then(
      (loaded) => {
        if (stream.isComplete) return;
        this.startSpan(stream, loaded, ctx);
        stream.continueDecoding();
      },
      () => {
        if (stream.isComplete) return;
        this.forwardWithoutSpan(stream, ctx);
        stream.continueDecoding();
      },
    );
    return 'stop';
  }

  private startSpan(stream: ActiveStream, sink: SpanSink, ctx: ExtractedContext): void {
    const parent = ctx.parent;
    const start = performance.timeOrigin + stream.info.startMonotonic;
    const span = sink.start(`${stream.authority}${stream.pathNoQuery}`, this.server, parent, start, this.startAttributes(stream));
    injectContext(stream.headers, {
      traceId: parent?.traceId ?? span.traceId,
      spanId: span.spanId,
      parentSpanId: parent?.spanId ?? null,
      sampled: true,
      debug: parent?.debug ?? false,
      tracestate: parent?.tracestate ?? '',
    }, ctx.formats);
    stream.addCompleteHook(new SpanEnd(span, start));
  }

  /** The span sink could not be loaded: the caller's decision still travels on, with a span id of our own. */
  private forwardWithoutSpan(stream: ActiveStream, ctx: ExtractedContext): void {
    const parent = ctx.parent;
    injectContext(stream.headers, {
      traceId: parent?.traceId ?? newTraceId(),
      spanId: newSpanId(),
      parentSpanId: parent?.spanId ?? null,
      sampled: true,
      debug: parent?.debug ?? false,
      tracestate: parent?.tracestate ?? '',
    }, ctx.formats);
  }

  /** OpenTelemetry's HTTP attributes plus the mesh's (Istio's span tags). */
  private startAttributes(stream: ActiveStream): SpanAttributes {
    const h = stream.headers;
    const authority = stream.authority;
    const colon = authority.lastIndexOf(':');
    const hasPort = colon > 0 && authority.indexOf(']', colon) < 0;
    const attrs: SpanAttributes = {
      'http.request.method': stream.method,
      'url.path': stream.pathNoQuery.length > this.maxPathLength ? stream.pathNoQuery.slice(0, this.maxPathLength) : stream.pathNoQuery,
      'server.address': hasPort ? authority.slice(0, colon) : authority,
      'network.protocol.version': stream.info.protocol === 'HTTP/2' ? '2' : '1.1',
      component: 'proxy',
      ...this.tracer.options.spanAttributes,
    };
    if (hasPort) {
      const port = Number(authority.slice(colon + 1));
      if (Number.isInteger(port)) attrs['server.port'] = port;
    }
    const ua = h['user-agent'];
    if (typeof ua === 'string') attrs['user_agent.original'] = ua;
    const rid = h['x-request-id'];
    if (typeof rid === 'string') attrs['guid:x-request-id'] = rid;
    const tags = this.config?.customTags;
    if (tags !== undefined) {
      for (const t of tags) {
        if (t.kind === 'literal') attrs[t.tag] = t.value;
        else {
          const v = h[t.name];
          attrs[t.tag] = typeof v === 'string' ? v : Array.isArray(v) ? v.join(',') : t.defaultValue;
        }
      }
    }
    return attrs;
  }
}

/** Ends a sampled request's span when its stream completes, with what only the end knows. */
class SpanEnd implements StreamCompleteHook {
  constructor(
    private readonly span: SinkSpan,
    private readonly startMs: number,
  ) {}

  onStreamComplete(stream: ActiveStream): void {
    const info = stream.info;
    const cluster = info.clusterName;
    this.span.setAttributes({
      'http.response.status_code': info.responseCode,
      upstream_cluster: cluster === '' ? '-' : cluster,
      response_flags: info.responseFlagsString,
    });
    const name = operationName(cluster);
    if (name !== null) this.span.updateName(name);
    this.span.end(this.startMs + Math.max(0, info.durationMs), info.responseCode === 0 || info.responseCode >= 500);
  }
}

/** Istio's span names: `host:port/*` of the service an outbound cluster (`outbound|PORT|SUBSET|HOST`) names. */
function operationName(cluster: string): string | null {
  if (!cluster.startsWith('outbound|')) return null;
  const parts = cluster.split('|');
  return parts.length === 4 ? `${parts[3]}:${parts[1]}/*` : null;
}
