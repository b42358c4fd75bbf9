import { expect } from 'chai';
import fc from 'fast-check';
import { OrderIndex } from '../src/order-index';

/** Applies (add?, id) steps to an OrderIndex and a Map (an add of a present id is refused, and changes nothing) and compares every id. */
function expectLikeMap(steps: readonly (readonly [boolean, number])[]): void {
  const index = new OrderIndex();
  const model = new Map<number, number>();
  let ref = 1;
  for (const [add, key] of steps) {
    if (add && !model.has(key)) {
      expect(index.add(key, ref)).to.equal(true);
      model.set(key, ref++);
    } else if (add) {
      expect(index.add(key, ref), `id ${key} added twice`).to.equal(false);
    } else {
      index.remove(key);
      model.delete(key);
    }
  }
  for (const [key, value] of model) expect(index.get(key), `id ${key}`).to.equal(value);
  for (const [, key] of steps) if (!model.has(key)) expect(index.has(key), `id ${key} removed`).to.equal(false);
}

describe('order index', () => {
  it('behaves like a Map under random inserts and deletes, for sequential and scattered ids', () => {
    const id = fc.oneof(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(1, 16, 32, 2 ** 32, 2 ** 32 + 16, 2 ** 53 - 1));
    // size 'max': long sequences (fast-check's default size keeps arrays to about ten steps, too few to collide).
    fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), id), { maxLength: 3000, size: 'max' }), (steps) => expectLikeMap(steps)), { numRuns: 30 });
  });

  it('finds, after any deletes, every id whose home slot was taken (many ids sharing few home slots)', () => {
    // Scattered ids at up to half the table's load collide; deletes then shift the displaced ones back.
    const scattered = fc.integer({ min: 1, max: 2 ** 40 });
    const pool = fc.uniqueArray(scattered, { minLength: 300, maxLength: 900 });
    fc.assert(
      fc.property(pool, fc.array(fc.tuple(fc.boolean(), fc.nat()), { minLength: 500, maxLength: 3000, size: 'max' }), (ids, picks) =>
        expectLikeMap(picks.map(([add, pick]) => [add, ids[pick % ids.length]!])),
      ),
      { numRuns: 30 },
    );
  });

  it('stays at its first 1,024 slots when a window of 200 live orders churns through 100,000 ids', () => {
    const index = new OrderIndex();
    for (let id = 1; id <= 100_000; id++) {
      index.add(id, id);
      if (id > 200) index.remove(id - 200);
    }
    expect(index.capacity()).to.equal(1024);
    for (let id = 99_801; id <= 100_000; id++) expect(index.get(id)).to.equal(id);
    expect(index.get(99_800)).to.equal(0);
  });

  it('grows past its initial capacity with runs of consecutive ids', () => {
    const index = new OrderIndex();
    for (let i = 1; i <= 50_000; i++) index.add(i, i);
    for (let i = 1; i <= 50_000; i += 2) index.remove(i);
    for (let i = 1; i <= 50_000; i++) expect(index.get(i)).to.equal(i % 2 === 0 ? i : 0);
  });

  it('adds many ids at once, grouped by home slot, as one add each would; and names the first one found twice', () => {
    const index = new OrderIndex();
    index.add(7, 1);
    const n = 30_000;
    // Scattered ids (a multiplicative sequence) over more home buckets than addAll groups by.
    const ids = Float64Array.from({ length: n }, (_, k) => 8 + ((k * 2_654_435_761) % 4_294_967_291));
    const refs = Int32Array.from({ length: n }, (_, k) => k + 2);
    expect(index.addAll(ids, refs)).to.equal(0);
    expect(index.get(7)).to.equal(1);
    for (let k = 0; k < n; k++) expect(index.get(ids[k]!)).to.equal(k + 2);
    expect(index.get(5)).to.equal(0);
    expect(new OrderIndex().addAll(Float64Array.of(3, 9, 3), Int32Array.of(1, 2, 3))).to.equal(3);
  });
});
