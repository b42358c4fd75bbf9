import type { TimelinePoint } from './phase';

/** How one memory figure of the loaded server moved over a phase: the soak's verdict. */
export interface MemoryTrend {
  /** Median of the first and of the last minute (or fifth of the phase, when shorter), in KiB. */
  readonly startKiB: number;
  readonly endKiB: number;
  /** Least-squares slope over the whole phase, in KiB per minute. */
  readonly slopeKiBPerMinute: number;
  readonly seconds: number;
}

const WINDOW_SECONDS = 60;

/** Resident memory, or the heap and Buffer memory in use after the last full GC (which a leak makes climb while RSS may not tell). */
export type MemoryFigure = 'rssKiB' | 'heapAfterGcKiB';

/** The trend of the points that carry the figure; undefined below three samples. */
export function memoryTrend(timeline: readonly TimelinePoint[], figure: MemoryFigure): MemoryTrend | undefined {
  const points = timeline.flatMap((p) => {
    const kib = p[figure];
    return kib === undefined ? [] : [{ atSeconds: p.atSeconds, kib }];
  });
  if (points.length < 3) return undefined;
  const seconds = points[points.length - 1]!.atSeconds;
  const window = Math.min(WINDOW_SECONDS, seconds / 5);
  const first = points.filter((p) => p.atSeconds < points[0]!.atSeconds + window);
  const last = points.filter((p) => p.atSeconds > seconds - window);
  const meanT = points.reduce((sum, p) => sum + p.atSeconds, 0) / points.length;
  const meanR = points.reduce((sum, p) => sum + p.kib, 0) / points.length;
  const covariance = points.reduce((sum, p) => sum + (p.atSeconds - meanT) * (p.kib - meanR), 0);
  const variance = points.reduce((sum, p) => sum + (p.atSeconds - meanT) ** 2, 0);
  return {
    startKiB: median(first.map((p) => p.kib)),
    endKiB: median(last.map((p) => p.kib)),
    slopeKiBPerMinute: variance === 0 ? 0 : (covariance / variance) * 60,
    seconds,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
