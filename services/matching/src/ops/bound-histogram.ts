import type { MetricValueWithName, Registry } from 'prom-client';

/** What prom-client's registry reads of a histogram (its get()). */
export interface HistogramValues {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly aggregator: 'sum';
  readonly values: readonly MetricValueWithName<string>[];
}

/** Observes one value into the series it was bound to. */
export type Observe = (value: number) => void;

interface Series {
  readonly labels: Readonly<Record<string, string>>;
  /** Observations per bucket (not cumulative), by index of its upper bound. */
  readonly counts: number[];
  sum: number;
  count: number;
  /** Whether it is exposed: from its first observation until a reset. */
  listed: boolean;
}

/**
 * A Prometheus histogram whose label sets are bound once (bind), so that an observation is a few
 * additions. prom-client's Histogram validates and hashes the labels on every observe(), which
 * the hot path paid per order (twice per unary order: the call and its command). It registers in
 * a prom-client Registry and is exposed in the same format, as the same series.
 */
export class BoundHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series: Series[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The observer of the series with these labels; a series appears once it was observed. */
  bind(labels: Readonly<Record<string, string>>): Observe {
    const series: Series = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0, listed: false };
    const { buckets } = this;
    return (value) => {
      if (!series.listed) {
        series.counts.fill(0);
        series.sum = 0;
        series.count = 0;
        series.listed = true;
        this.series.push(series);
      }
      let i = 0;
      while (i < buckets.length && value > (buckets[i] ?? Infinity)) i++;
      if (i < buckets.length) series.counts[i] = (series.counts[i] ?? 0) + 1;
      series.sum += value;
      series.count += 1;
    };
  }

  get(): Promise<HistogramValues> {
    const values: MetricValueWithName<string>[] = [];
    for (const series of this.series) {
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += series.counts[i] ?? 0;
        values.push({ labels: { le: bound, ...series.labels }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...series.labels }, value: series.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...series.labels }, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...series.labels }, value: series.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  /** Forgets every series, as prom-client's reset() does; bound observers start them again. */
  reset(): void {
    for (const series of this.series) series.listed = false;
    this.series.length = 0;
  }
}
