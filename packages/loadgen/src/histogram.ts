/**
 * A log-bucketed latency histogram in the manner of HdrHistogram: values (microseconds) below
 * 2^(SUB_BITS+1) are counted exactly, larger ones in buckets of relative width 2^-SUB_BITS
 * (< 0.8 %). Memory is fixed whatever the number of samples and recording is O(1), so a whole
 * phase and the one-second window of the progress line use the same type.
 */
const SUB_BITS = 7;
const SUB_COUNT = 1 << SUB_BITS;
const EXACT_LIMIT = SUB_COUNT * 2;
/** Values are clamped to 2^31 - 1 µs (about 36 minutes), far beyond any call deadline. */
const MAX_VALUE = 0x7fffffff;
const MAX_SHIFT = 31 - (SUB_BITS + 1);
const BUCKETS = EXACT_LIMIT + MAX_SHIFT * SUB_COUNT;

function bucketOf(value: number): number {
  if (value < EXACT_LIMIT) return value;
  const shift = 32 - Math.clz32(value) - (SUB_BITS + 1);
  return EXACT_LIMIT + (shift - 1) * SUB_COUNT + ((value >>> shift) - SUB_COUNT);
}

/** The largest value that falls in a bucket: percentiles err on the high side, never flatter. */
function upperBoundOf(bucket: number): number {
  if (bucket < EXACT_LIMIT) return bucket;
  const shift = Math.floor((bucket - EXACT_LIMIT) / SUB_COUNT) + 1;
  const top = ((bucket - EXACT_LIMIT) % SUB_COUNT) + SUB_COUNT;
  return (top + 1) * 2 ** shift - 1;
}

export interface LatencySummary {
  readonly count: number;
  readonly minUs: number;
  readonly meanUs: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly maxUs: number;
}

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private sum = 0;
  private min = Infinity;
  private max = 0;

  get count(): number {
    return this.total;
  }

  /** Records one latency in microseconds (rounded; negatives count as 0). */
  record(micros: number): void {
    const value = Math.min(MAX_VALUE, Math.max(0, Math.round(micros)));
    this.counts[bucketOf(value)] += 1;
    this.total += 1;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = 0;
  }

  /** The value at quantile q in [0, 1]: the smallest bucket bound with at least q of the samples at or below it; 0 when empty. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(upperBoundOf(i), this.max);
    }
    return this.max;
  }

  summary(): LatencySummary {
    return {
      count: this.total,
      minUs: this.total === 0 ? 0 : this.min,
      meanUs: this.total === 0 ? 0 : this.sum / this.total,
      p50Us: this.quantile(0.5),
      p90Us: this.quantile(0.9),
      p99Us: this.quantile(0.99),
      p999Us: this.quantile(0.999),
      maxUs: this.max,
    };
  }
}
