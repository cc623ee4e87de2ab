// parse-prometheus-text-format folds a histogram's label sets into one (it only handles unlabelled
// histograms), so labelled histograms are read here from the sample lines: `name{labels} value`.

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function promSamples(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

export interface HistogramSeries {
  labels: Record<string, string>;
  count: number;
  sum: number;
  /** Cumulative counts by `le`. */
  buckets: Record<string, number>;
}

/** A histogram's series, one per label set (without `le`). */
export function histogramSeries(samples: readonly PromSample[], name: string): HistogramSeries[] {
  const series = new Map<string, HistogramSeries>();
  const get = (labels: Record<string, string>) => {
    const { le: _le, ...rest } = labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    let s = series.get(key);
    if (!s) series.set(key, (s = { labels: rest, count: NaN, sum: NaN, buckets: {} }));
    return s;
  };
  for (const s of samples) {
    if (s.name === `${name}_bucket`) get(s.labels).buckets[s.labels.le!] = s.value;
    else if (s.name === `${name}_count`) get(s.labels).count = s.value;
    else if (s.name === `${name}_sum`) get(s.labels).sum = s.value;
  }
  return [...series.values()];
}
