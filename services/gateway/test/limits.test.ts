import { expect } from 'chai';
import { RateLimiter, Slots } from '../src/limits';

describe('gateway limits', () => {
  it('lets a burst through, then one request per 1/rate seconds, per address', () => {
    let now = 0;
    const limiter = new RateLimiter(2, 3, () => now);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).to.deep.equal([0, 0, 0]);
    expect(limiter.take('a')).to.equal(1);
    expect(limiter.take('b')).to.equal(0);
    now += 500;
    expect(limiter.take('a')).to.equal(0);
    expect(limiter.take('a')).to.equal(1);
  });

  it('counts open streams per address and in total, and gives places back once', () => {
    const slots = new Slots(2, 3);
    const a1 = slots.admit('a');
    const a2 = slots.admit('a');
    expect(slots.admit('a')).to.deep.equal({ admitted: false, scope: 'peer' });
    const b1 = slots.admit('b');
    expect(slots.admit('c')).to.deep.equal({ admitted: false, scope: 'total' });
    if (!a1.admitted || !a2.admitted || !b1.admitted) throw new Error('expected admissions');
    a1.leave();
    a1.leave();
    expect(slots.open).to.equal(2);
    expect(slots.admit('a').admitted).to.equal(true);
  });
});
