import { expect } from 'chai';
import fc from 'fast-check';
import { OrderIndex } from '../src/order-index';

describe('order index', () => {
  it('behaves like a Map under random inserts and deletes, for sequential and scattered ids', () => {
    const id = fc.oneof(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(1, 16, 32, 2 ** 32, 2 ** 32 + 16, 2 ** 53 - 1));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), id), { maxLength: 3000 }), (steps) => {
        const index = new OrderIndex();
        const model = new Map<number, number>();
        let ref = 1;
        for (const [add, key] of steps) {
          if (add && !model.has(key)) {
            index.add(key, ref);
            model.set(key, ref++);
          } else {
            index.remove(key);
            model.delete(key);
          }
        }
        for (const [key, value] of model) expect(index.get(key)).to.equal(value);
        for (const [, key] of steps) if (!model.has(key)) expect(index.has(key)).to.equal(false);
      }),
      { numRuns: 100 },
    );
  });

  it('grows past its initial capacity with runs of consecutive ids', () => {
    const index = new OrderIndex();
    for (let i = 1; i <= 50_000; i++) index.add(i, i);
    for (let i = 1; i <= 50_000; i += 2) index.remove(i);
    for (let i = 1; i <= 50_000; i++) expect(index.get(i)).to.equal(i % 2 === 0 ? i : 0);
  });
});
