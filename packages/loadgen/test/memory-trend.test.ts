import { expect } from 'chai';
import { memoryTrend } from '../src/memory-trend';
import type { TimelinePoint } from '../src/phase';

function timeline(seconds: number, rssAt: (t: number) => number | undefined): TimelinePoint[] {
  return Array.from({ length: seconds }, (_, i) => {
    const rss = rssAt(i + 1);
    return { atSeconds: i + 1, throughput: 100, ...(rss === undefined ? {} : { rssKiB: rss }) };
  });
}

describe('memory trend of a phase (the soak verdict)', () => {
  it('reads a flat RSS as no growth, and medians of the first and last minute', () => {
    const trend = memoryTrend(timeline(600, (t) => 100_000 + (t % 2 === 0 ? 50 : -50)), 'rssKiB')!;
    expect(trend.startKiB).to.equal(100_000);
    expect(trend.endKiB).to.equal(100_000);
    expect(Math.abs(trend.slopeKiBPerMinute)).to.be.below(1);
    expect(trend.seconds).to.equal(600);
  });

  it('measures a steady leak as its slope per minute', () => {
    const trend = memoryTrend(timeline(600, (t) => 100_000 + 20 * t), 'rssKiB')!;
    expect(trend.slopeKiBPerMinute).to.be.closeTo(1200, 1e-6);
    expect(trend.endKiB - trend.startKiB).to.equal(20 * 540);
  });

  it('uses a fifth of a short phase as its windows, skips points without a sample, and says nothing below three samples', () => {
    const trend = memoryTrend(timeline(10, (t) => (t === 5 ? undefined : 1000 * t)), 'rssKiB')!;
    expect(trend.startKiB).to.equal(1500);
    expect(trend.endKiB).to.equal(9500);
    expect(memoryTrend(timeline(2, () => 5), 'rssKiB')).to.equal(undefined);
    expect(memoryTrend(timeline(600, () => 5), 'heapAfterGcKiB')).to.equal(undefined);
  });
});
