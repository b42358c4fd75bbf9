import { expect } from 'chai';
import fc from 'fast-check';
import { buyLockAmount, quoteAmount } from '../src/settlement';

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const floorDiv = (p: bigint, q: bigint): bigint => (p * q) / 1_000_000n;
const ceilDiv = (p: bigint, q: bigint): bigint => (p * q + 999_999n) / 1_000_000n;

describe('settlement rounding rule', () => {
  it('quote amount = floor(price × quantity / 10^6), lock = ceil(...)', () => {
    // 98.5 × 0.00000003: 98_500_000 × 3 / 10^6 = 295.5 units → pays 295, locks 296.
    expect(quoteAmount(98_500_000, 3)).to.equal(295);
    expect(buyLockAmount(98_500_000, 3)).to.equal(296);
    // Exact products need no rounding either way.
    expect(quoteAmount(100_000_000, 700_000_000)).to.equal(70_000_000_000);
    expect(buyLockAmount(100_000_000, 700_000_000)).to.equal(70_000_000_000);
    // Fractional parts whose product is whole: 0.5 × 0.00000002 and 2.5 × 0.004 need no rounding up.
    expect(buyLockAmount(500_000, 2)).to.equal(1);
    expect(buyLockAmount(2_500_000, 400_000)).to.equal(1_000_000);
    // Below one unit: the fill pays nothing, but a lock is never zero.
    expect(quoteAmount(1, 1)).to.equal(0);
    expect(buyLockAmount(1, 1)).to.equal(1);
  });

  it('is exact (compared with bigint arithmetic) whenever the result is at most 2^53-1', () => {
    const unit = fc.oneof(
      fc.integer({ min: 1, max: 1_000_000 }),
      fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      fc.constantFrom(1, 999_999, 1_000_000, 1_000_001, Number.MAX_SAFE_INTEGER, 2 ** 52, 2 ** 53 - 2),
    );
    fc.assert(
      fc.property(unit, unit, (price, quantity) => {
        const p = BigInt(price);
        const q = BigInt(quantity);
        const floor = floorDiv(p, q);
        const ceil = ceilDiv(p, q);
        if (floor <= MAX) expect(BigInt(quoteAmount(price, quantity))).to.equal(floor);
        else expect(quoteAmount(price, quantity)).to.be.greaterThan(Number.MAX_SAFE_INTEGER);
        if (ceil <= MAX) expect(BigInt(buyLockAmount(price, quantity))).to.equal(ceil);
        else expect(buyLockAmount(price, quantity)).to.be.greaterThan(Number.MAX_SAFE_INTEGER);
      }),
      { numRuns: 2000 },
    );
  });

  it('a buy lock always covers what the rest of the order can still cost', () => {
    // Lock ceil(limit × Q) and pay floor(makerPrice × fill) per fill, makerPrice ≤ limit: the lock left
    // covers ceil(limit × remaining) after every fill.
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 ** 9 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 10 ** 6 }), fc.integer({ min: 0, max: 10 ** 9 })), { minLength: 1, maxLength: 8 }),
        (limit, fills) => {
          const quantity = fills.reduce((a, [f]) => a + f, 0);
          let lock = buyLockAmount(limit, quantity);
          let remaining = quantity;
          for (const [fill, below] of fills) {
            const makerPrice = Math.max(1, limit - below);
            lock -= quoteAmount(makerPrice, fill);
            remaining -= fill;
            expect(lock).to.be.at.least(buyLockAmount(limit, remaining));
            expect(lock).to.be.at.least(0);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
