import type { Metric, Registry } from 'prom-client';

/** A sample as prom-client's registry prints it: `metricName{labels,sharedLabels} value`. */
interface Sample {
  metricName: string;
  value: number;
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
}

/** One label set's counts: per bucket (not cumulative), their sum and count. */
interface Series {
  labels: Record<string, string>;
  counts: Float64Array;
  sum: number;
  count: number;
}

/** A child of one label set: what a request calls. */
export interface Observer {
  observe(value: number): void;
}

/**
 * A labelled histogram for the per-request timings, exposed through a prom-client registry in the
 * same form as prom-client's Histogram (the registry reads a metric's `getForPromString()` or `get()`). Observing
 * costs a loop over the bounds and three additions: prom-client's own validates and hashes the labels
 * and looks each bound up as a property name on every observation.
 */
export class LabelledHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The observer of one label set, made on first use; keep it rather than asking again. */
  child(labels: Record<L, string>): Observer {
    const key = this.labelNames.map((n) => labels[n]).join('\n');
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels: { ...labels }, counts: new Float64Array(this.buckets.length), sum: 0, count: 0 }));
    const series = s;
    const bounds = this.buckets;
    return {
      observe(value: number) {
        for (let i = 0; i < bounds.length; i++) {
          if (value <= bounds[i]) {
            series.counts[i]++;
            break;
          }
        }
        series.sum += value;
        series.count++;
      },
    };
  }

  /** Forgets every series (prom-client's Registry.resetMetrics calls it). */
  reset(): void {
    this.series.clear();
  }

  /** As prom-client's Histogram.get() (Registry.getMetricsAsJSON): each sample's labels in one object. */
  async get() {
    const m = await this.getForPromString();
    return { ...m, values: m.values.map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } })) };
  }

  /** What the registry prints (Registry.metrics()): cumulative buckets, +Inf, sum and count per label set. */
  async getForPromString(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Sample[] }> {
    const values: Sample[] = [];
    for (const s of this.series.values()) {
      let acc = 0;
      const sample = (metricName: string, value: number, le?: number | string) =>
        values.push({ metricName, value, labels: le === undefined ? {} : { le }, sharedLabels: s.labels });
      this.buckets.forEach((le, i) => sample(`${this.name}_bucket`, (acc += s.counts[i]), le));
      sample(`${this.name}_bucket`, s.count, '+Inf');
      sample(`${this.name}_sum`, s.sum);
      sample(`${this.name}_count`, s.count);
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values };
  }
}
