/** The order-entry RPCs whose time inside matching the bench reports (the unary ones it sends). */
const ORDER_METHODS = ['PlaceLimitOrder', 'PlaceMarketOrder', 'CancelOrder'];
const SERIES_LINE = /^matching_call_duration_seconds_(bucket|sum)\{(.*)\} (\S+)$/;

/** One method's matching_call_duration_seconds, summed over status codes: cumulative counts by upper bound in seconds, and the sum. */
export interface CallHistogram {
  readonly buckets: ReadonlyMap<number, number>;
  readonly sumSeconds: number;
}

/** Time inside matching (arrival to status) of the calls answered between two scrapes. */
export interface ServerLatency {
  readonly count: number;
  /** Exact: from the histogram's sum. */
  readonly meanUs: number;
  /** Upper bound of the bucket holding each quantile: never flatters. Infinity past the last bound. */
  readonly p50Us: number;
  readonly p99Us: number;
}

const EMPTY: CallHistogram = { buckets: new Map(), sumSeconds: 0 };

function labelsOf(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/(\w+)="([^"]*)"/g)].map(([, name, value]) => [name, value]));
}

/** Every method's call histogram from a Prometheus text page, summed over status codes. */
export function parseCallHistograms(page: string): ReadonlyMap<string, CallHistogram> {
  const byMethod = new Map<string, { buckets: Map<number, number>; sumSeconds: number }>();
  for (const line of page.split('\n')) {
    const match = SERIES_LINE.exec(line);
    if (match === null) continue;
    const labels = labelsOf(match[2] ?? '');
    const method = labels.method ?? '';
    let histogram = byMethod.get(method);
    if (histogram === undefined) {
      histogram = { buckets: new Map(), sumSeconds: 0 };
      byMethod.set(method, histogram);
    }
    const value = Number(match[3]);
    if (match[1] === 'sum') {
      histogram.sumSeconds += value;
      continue;
    }
    const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
    histogram.buckets.set(le, (histogram.buckets.get(le) ?? 0) + value);
  }
  return byMethod;
}

/** The order RPCs' histograms added up (reads and other methods left out). */
export function orderCalls(byMethod: ReadonlyMap<string, CallHistogram>): CallHistogram {
  const buckets = new Map<number, number>();
  let sumSeconds = 0;
  for (const method of ORDER_METHODS) {
    const histogram = byMethod.get(method);
    if (histogram === undefined) continue;
    sumSeconds += histogram.sumSeconds;
    for (const [le, count] of histogram.buckets) buckets.set(le, (buckets.get(le) ?? 0) + count);
  }
  return { buckets, sumSeconds };
}

/** The mean and quantiles of the calls counted between two scrapes (a method absent before had no calls then). */
export function latencyBetween(before: CallHistogram | undefined, after: CallHistogram): ServerLatency {
  const earlier = before ?? EMPTY;
  const bounds = [...after.buckets.keys()].sort((a, b) => a - b);
  const cumulative = bounds.map((le) => (after.buckets.get(le) ?? 0) - (earlier.buckets.get(le) ?? 0));
  const count = cumulative.at(-1) ?? 0;
  const quantile = (q: number): number => {
    const index = cumulative.findIndex((c) => c >= q * count);
    return count === 0 || index < 0 ? 0 : (bounds[index] ?? Infinity) * 1e6;
  };
  const meanUs = count === 0 ? 0 : ((after.sumSeconds - earlier.sumSeconds) * 1e6) / count;
  return { count, meanUs, p50Us: quantile(0.5), p99Us: quantile(0.99) };
}

/** How many journal syncs (fdatasync) matching made and the seconds they took, from matching_journal_fsync_duration_seconds. */
export interface SyncTotals {
  readonly count: number;
  readonly sumSeconds: number;
}

export function parseJournalSyncs(page: string): SyncTotals {
  const value = (series: string): number => Number(new RegExp(`^matching_journal_fsync_duration_seconds_${series} (\\S+)$`, 'm').exec(page)?.[1] ?? 0);
  return { count: value('count'), sumSeconds: value('sum') };
}

export interface ServerFigures {
  readonly calls: ReadonlyMap<string, CallHistogram>;
  readonly syncs: SyncTotals;
}

/** Reads matching's /metrics page for every method's call histogram and the journal's syncs. */
export async function scrapeServerFigures(metricsUrl: string): Promise<ServerFigures> {
  const response = await fetch(metricsUrl);
  if (!response.ok) throw new Error(`loadgen: ${metricsUrl} answered ${response.status}`);
  const page = await response.text();
  return { calls: parseCallHistograms(page), syncs: parseJournalSyncs(page) };
}
