import type { TimelinePoint } from './phase';

/** How the loaded server's resident memory moved over a phase: the soak's verdict. */
export interface MemoryTrend {
  /** Median RSS of the first and of the last minute (or fifth of the phase, when shorter), in KiB. */
  readonly startKiB: number;
  readonly endKiB: number;
  /** Least-squares slope of RSS over the whole phase, in KiB per minute. */
  readonly slopeKiBPerMinute: number;
  readonly seconds: number;
}

const WINDOW_SECONDS = 60;

/** The trend of the points that carry an RSS sample; undefined below three samples. */
export function memoryTrend(timeline: readonly TimelinePoint[]): MemoryTrend | undefined {
  const points = timeline.filter((p): p is TimelinePoint & { rssKiB: number } => p.rssKiB !== undefined);
  if (points.length < 3) return undefined;
  const seconds = points[points.length - 1]!.atSeconds;
  const window = Math.min(WINDOW_SECONDS, seconds / 5);
  const first = points.filter((p) => p.atSeconds < points[0]!.atSeconds + window);
  const last = points.filter((p) => p.atSeconds > seconds - window);
  const meanT = points.reduce((sum, p) => sum + p.atSeconds, 0) / points.length;
  const meanR = points.reduce((sum, p) => sum + p.rssKiB, 0) / points.length;
  const covariance = points.reduce((sum, p) => sum + (p.atSeconds - meanT) * (p.rssKiB - meanR), 0);
  const variance = points.reduce((sum, p) => sum + (p.atSeconds - meanT) ** 2, 0);
  return {
    startKiB: median(first.map((p) => p.rssKiB)),
    endKiB: median(last.map((p) => p.rssKiB)),
    slopeKiBPerMinute: variance === 0 ? 0 : (covariance / variance) * 60,
    seconds,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
