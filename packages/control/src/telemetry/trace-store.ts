/** An attribute value as OTLP carries it, flattened. */
export type AttributeValue = string | number | boolean | null | AttributeValue[];

/** One span as the collector keeps and serves it. */
export interface StoredSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  /** OpenTelemetry's kind name: SERVER, CLIENT, INTERNAL, PRODUCER, CONSUMER (UNSPECIFIED when unset). */
  kind: string;
  /** The resource's `service.name`, e.g. `productpage.default`. */
  service: string;
  /** Epoch microseconds (OTLP gives nanoseconds; microseconds stay exact in a JS number). */
  startTimeUnixMicros: number;
  endTimeUnixMicros: number;
  durationMicros: number;
  /** OTLP status: UNSET, OK or ERROR. */
  status: string;
  attributes: Record<string, AttributeValue>;
}

/** A trace's summary, for lists. */
export interface TraceSummary {
  traceId: string;
  services: string[];
  spanCount: number;
  /** The root span's name when the root has arrived, else the earliest span's. */
  rootName: string;
  startTimeUnixMicros: number;
  durationMicros: number;
  /** When the collector last received a span of it (epoch ms): the list's newest-first order. */
  updatedAt: number;
}

interface TraceEntry {
  spans: StoredSpan[];
  services: Set<string>;
  updatedAt: number;
}

export interface TraceStoreLimits {
  maxSpans: number;
  maxTraces: number;
}

export const DEFAULT_TRACE_LIMITS: TraceStoreLimits = { maxSpans: 10_000, maxTraces: 1_000 };

/**
 * The collector's memory: spans grouped by trace, bounded in spans and traces. Traces are kept in the order
 * they were last written to (a Map re-inserted on each write), so eviction drops the trace that has been
 * quiet longest, whole.
 */
export class TraceStore {
  private readonly traces = new Map<string, TraceEntry>();
  private spanCount = 0;
  private readonly limits: TraceStoreLimits;

  constructor(limits: Partial<TraceStoreLimits> = {}) {
    this.limits = { ...DEFAULT_TRACE_LIMITS, ...limits };
  }

  get size(): { traces: number; spans: number } {
    return { traces: this.traces.size, spans: this.spanCount };
  }

  add(spans: readonly StoredSpan[]): void {
    const now = Date.now();
    for (const span of spans) {
      let entry = this.traces.get(span.traceId);
      if (entry) this.traces.delete(span.traceId);
      else entry = { spans: [], services: new Set(), updatedAt: now };
      entry.spans.push(span);
      if (span.service !== '') entry.services.add(span.service);
      entry.updatedAt = now;
      this.traces.set(span.traceId, entry);
      this.spanCount++;
    }
    this.evict();
  }

  /** One trace's spans, by start time; undefined when unknown (or evicted). */
  trace(traceId: string): StoredSpan[] | undefined {
    const entry = this.traces.get(traceId.toLowerCase());
    return entry ? [...entry.spans].sort((a, b) => a.startTimeUnixMicros - b.startTimeUnixMicros) : undefined;
  }

  /** Recent traces, newest first, optionally only those with a span of `service`. */
  list(service: string | undefined, limit: number): TraceSummary[] {
    const out: TraceSummary[] = [];
    const entries = [...this.traces.entries()];
    for (let i = entries.length - 1; i >= 0 && out.length < limit; i--) {
      const [traceId, entry] = entries[i]!;
      if (service !== undefined && !entry.services.has(service)) continue;
      out.push(summary(traceId, entry));
    }
    return out;
  }

  private evict(): void {
    const { maxSpans, maxTraces } = this.limits;
    while (this.traces.size > maxTraces || (this.spanCount > maxSpans && this.traces.size > 0)) {
      const oldest = this.traces.keys().next().value as string;
      this.spanCount -= this.traces.get(oldest)!.spans.length;
      this.traces.delete(oldest);
    }
  }
}

function summary(traceId: string, entry: TraceEntry): TraceSummary {
  let start = Infinity;
  let end = -Infinity;
  let root: StoredSpan | undefined;
  let earliest: StoredSpan | undefined;
  for (const s of entry.spans) {
    if (s.startTimeUnixMicros < start) {
      start = s.startTimeUnixMicros;
      earliest = s;
    }
    end = Math.max(end, s.endTimeUnixMicros);
    if (s.parentSpanId === '') root = s;
  }
  return {
    traceId,
    services: [...entry.services].sort(),
    spanCount: entry.spans.length,
    rootName: (root ?? earliest)?.name ?? '',
    startTimeUnixMicros: start,
    durationMicros: end - start,
    updatedAt: entry.updatedAt,
  };
}
