import { expect } from 'chai';
import { Histogram } from '../src/histogram';

describe('Histogram', () => {
  it('counts values below 256 µs exactly', () => {
    const histogram = new Histogram();
    for (let value = 0; value < 256; value++) histogram.record(value);
    expect(histogram.quantile(0.5)).to.equal(127);
    expect(histogram.quantile(1)).to.equal(255);
    expect(histogram.summary()).to.include({ count: 256, minUs: 0, maxUs: 255 });
  });

  it('never reports a quantile below the true value, and at most 1/128 above it', () => {
    const histogram = new Histogram();
    const values: number[] = [];
    for (let i = 0; i < 20_000; i++) values.push(Math.floor(1.0007 ** i));
    values.forEach((value) => histogram.record(value));
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.99, 0.999]) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1] ?? 0;
      const reported = histogram.quantile(q);
      expect(reported).to.be.at.least(exact);
      expect(reported).to.be.at.most(exact * (1 + 1 / 128));
    }
  });

  it('clamps huge and negative values instead of losing them', () => {
    const histogram = new Histogram();
    histogram.record(-5);
    histogram.record(1e12);
    expect(histogram.count).to.equal(2);
    expect(histogram.quantile(0)).to.equal(0);
    expect(histogram.quantile(1)).to.equal(0x7fffffff);
  });

  it('summarises count, min, mean and max, and resets to empty', () => {
    const a = new Histogram();
    for (const value of [10, 1000, 3000]) a.record(value);
    expect(a.summary()).to.include({ count: 3, minUs: 10, maxUs: 3000 });
    expect(a.summary().meanUs).to.be.closeTo(1336.67, 0.01);
    a.reset();
    expect(a.summary()).to.deep.equal({ count: 0, minUs: 0, meanUs: 0, p50Us: 0, p90Us: 0, p99Us: 0, p999Us: 0, maxUs: 0 });
  });
});
