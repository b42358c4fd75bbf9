/** The order-entry RPCs whose time inside matching the bench reports (the unary ones it sends). */
const ORDER_METHODS = new Set(['PlaceLimitOrder', 'PlaceMarketOrder', 'CancelOrder']);
const BUCKET_LINE = /^matching_call_duration_seconds_bucket\{(.*)\} (\S+)$/;

/** Cumulative counts of matching_call_duration_seconds for the order RPCs, by upper bound in seconds. */
export type CallBuckets = ReadonlyMap<number, number>;

/** Time inside matching (arrival to status) of the order RPCs answered during a phase. */
export interface ServerLatency {
  readonly count: number;
  /** Upper bound of the bucket holding each quantile: never flatters. Infinity past the last bound. */
  readonly p50Us: number;
  readonly p99Us: number;
}

/** Sums the order RPCs' buckets over methods and status codes from a Prometheus text page. */
export function parseCallBuckets(page: string): CallBuckets {
  const buckets = new Map<number, number>();
  for (const line of page.split('\n')) {
    const match = BUCKET_LINE.exec(line);
    if (match === null) continue;
    const labels = Object.fromEntries([...(match[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, name, value]) => [name, value]));
    if (!ORDER_METHODS.has(labels.method ?? '')) continue;
    const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(match[2]));
  }
  return buckets;
}

/** The quantiles of the calls counted between two scrapes. */
export function latencyBetween(before: CallBuckets, after: CallBuckets): ServerLatency {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const cumulative = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const count = cumulative.at(-1) ?? 0;
  const quantile = (q: number): number => {
    const index = cumulative.findIndex((c) => c >= q * count);
    return count === 0 || index < 0 ? 0 : (bounds[index] ?? Infinity) * 1e6;
  };
  return { count, p50Us: quantile(0.5), p99Us: quantile(0.99) };
}

/** Reads matching's /metrics page for the order RPCs' buckets. */
export async function scrapeCallBuckets(metricsUrl: string): Promise<CallBuckets> {
  const response = await fetch(metricsUrl);
  if (!response.ok) throw new Error(`loadgen: ${metricsUrl} answered ${response.status}`);
  return parseCallBuckets(await response.text());
}
