import { expect } from 'chai';
import { SlidingWindowLimiter } from '../src/rate-limiter';

describe('SlidingWindowLimiter', () => {
  let time: number;
  const now = (): number => time;
  beforeEach(() => {
    time = 1_000_000;
  });

  it('blocks a key once it reached the limit within the window, until the oldest event leaves it', () => {
    const limiter = new SlidingWindowLimiter({ limit: 3, windowMs: 1000, now });
    limiter.record('a');
    time += 100;
    limiter.record('a');
    time += 100;
    expect(limiter.retryAfterMs('a')).to.equal(0);
    limiter.record('a');
    expect(limiter.retryAfterMs('a')).to.equal(800);
    time += 799;
    expect(limiter.retryAfterMs('a')).to.equal(1);
    time += 1;
    expect(limiter.retryAfterMs('a')).to.equal(0);
    limiter.record('a');
    expect(limiter.retryAfterMs('a')).to.equal(100);
  });

  it('keeps keys apart', () => {
    const limiter = new SlidingWindowLimiter({ limit: 1, windowMs: 1000, now });
    limiter.record('a');
    expect(limiter.retryAfterMs('a')).to.equal(1000);
    expect(limiter.retryAfterMs('b')).to.equal(0);
  });

  it('forgets a key on reset', () => {
    const limiter = new SlidingWindowLimiter({ limit: 2, windowMs: 1000, now });
    limiter.record('a');
    limiter.record('a');
    limiter.reset('a');
    expect(limiter.retryAfterMs('a')).to.equal(0);
    limiter.record('a');
    expect(limiter.retryAfterMs('a')).to.equal(0);
  });

  it('bounds memory by forgetting the least recently hit keys', () => {
    const limiter = new SlidingWindowLimiter({ limit: 1, windowMs: 1000, maxKeys: 2, now });
    limiter.record('a');
    limiter.record('b');
    limiter.record('a');
    limiter.record('c');
    expect(limiter.retryAfterMs('b')).to.equal(0);
    // No time passed: both are blocked for the whole window.
    expect(limiter.retryAfterMs('a')).to.equal(1000);
    expect(limiter.retryAfterMs('c')).to.equal(1000);
  });
});
