import type { Metric, Registry } from 'prom-client';

/** A value in prom-client's exposition form (`sharedLabels` are formatted once per object, then cached). */
export interface CollectedValue {
  readonly value: number;
  readonly labels: Record<string, string | number>;
  readonly sharedLabels?: Record<string, string>;
  readonly metricName?: string;
}

/**
 * A metric whose samples are produced at scrape time by `collect`, registered in a prom-client Registry next
 * to ordinary metrics. For values kept in the data path's own cells (no label hashing per request).
 */
export class CollectedMetric {
  readonly aggregator = 'sum' as const;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    private readonly collectValues: () => CollectedValue[],
    private readonly onReset: () => void,
  ) {}

  async get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: CollectedValue[] }> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.collectValues() };
  }

  reset(): void {
    this.onReset();
  }

  register(registry: Registry): void {
    registry.registerMetric(this as unknown as Metric);
  }
}

/**
 * One label set's histogram: per-bucket counts (not cumulative; summed at scrape), sum and count. Observing
 * is a short loop over the bounds and two additions.
 */
export class HistogramCell {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(v: number): void {
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (v <= bounds[i]!) {
        this.counts[i]!++;
        break;
      }
    }
    this.sum += v;
    this.count++;
  }

  /** Prometheus samples: cumulative `_bucket`s with `le`, `+Inf`, `_sum`, `_count`. */
  collect(name: string, labels: Record<string, string>, out: CollectedValue[]): void {
    let cumulative = 0;
    const bucket = `${name}_bucket`;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i]!;
      out.push({ value: cumulative, labels: { le: this.bounds[i]! }, sharedLabels: labels, metricName: bucket });
    }
    out.push({ value: this.count, labels: { le: '+Inf' }, sharedLabels: labels, metricName: bucket });
    out.push({ value: this.sum, labels: {}, sharedLabels: labels, metricName: `${name}_sum` });
    out.push({ value: this.count, labels: {}, sharedLabels: labels, metricName: `${name}_count` });
  }
}
