import { expect } from 'chai';
import { Histogram, Registry } from 'prom-client';
import { BoundHistogram } from '../../src/ops/bound-histogram';

describe('BoundHistogram', () => {
  it("exposes the same series as prom-client's Histogram given the same observations, before and after a reset", async () => {
    const buckets = [0.001, 0.01, 0.1];
    const observations: Array<[string, string, number]> = [['placeLimit', 'accepted', 0.0005], ['placeLimit', 'accepted', 0.05], ['cancel', 'rejected', 0.01], ['cancel', 'rejected', 7]];
    const ours = new Registry();
    const bound = new BoundHistogram('h_seconds', 'help', buckets, ours);
    const observers = new Map<string, (value: number) => void>();
    const theirs = new Registry();
    const histogram = new Histogram({ name: 'h_seconds', help: 'help', labelNames: ['kind', 'outcome'], buckets, registers: [theirs] });
    for (const [kind, outcome, value] of observations) {
      const key = `${kind} ${outcome}`;
      if (!observers.has(key)) observers.set(key, bound.bind({ kind, outcome }));
      observers.get(key)!(value);
      histogram.observe({ kind, outcome }, value);
    }
    bound.bind({ kind: 'never', outcome: 'observed' });
    expect(await ours.metrics()).to.equal(await theirs.metrics());
    ours.resetMetrics();
    theirs.resetMetrics();
    observers.get('cancel rejected')!(0.002);
    histogram.observe({ kind: 'cancel', outcome: 'rejected' }, 0.002);
    expect(await ours.metrics()).to.equal(await theirs.metrics());
  });
});
