import { expect } from 'chai';
import fc from 'fast-check';
import { Account } from '../src/account';
import { Market } from '../src/market';
import { planTake } from '../src/matching';
import { NO_ORDER, type OrderRef, OrderStore } from '../src/order-store';
import type { Side } from '../src/index';

function fixture() {
  const accounts: Account[] = [new Account('alice', 0, 10), new Account('bob', 1, 10)];
  const store = new OrderStore(['alice', 'bob'], ['BTC-USD']);
  const market = new Market({ symbol: 'BTC-USD', base: 'BTC', quote: 'USD' }, 0, 0, 1, store);
  let nextId = 1;
  const order = (side: Side, price: number, quantity: number, account = accounts[0]!): OrderRef =>
    store.create(nextId++, account.index, market.index, side === 'buy' ? 1 : 0, side, 'limit', price, quantity, quantity, 0, 'GTC', false, 'cancel_resting', undefined, undefined);
  return { store, book: market.book, order };
}

/** Ids of a level's orders, front to back. */
function queue(store: OrderStore, head: OrderRef): number[] {
  const ids: number[] = [];
  for (let o = head; o !== NO_ORDER; o = store.next(o)) ids.push(store.id(o));
  return ids;
}

describe('order book', () => {
  it('keeps bids highest first and asks lowest first, with levels aggregated', () => {
    const { book, order } = fixture();
    for (const [side, price, q] of [['buy', 100, 1], ['buy', 102, 2], ['buy', 101, 3], ['buy', 102, 4], ['sell', 105, 5], ['sell', 103, 6], ['sell', 104, 7], ['sell', 103, 8]] as const) {
      book.add(order(side, price, q));
    }
    expect(book.bids.depth(10)).to.deep.equal([
      { price: 102n, quantity: 6n, orderCount: 2 },
      { price: 101n, quantity: 3n, orderCount: 1 },
      { price: 100n, quantity: 1n, orderCount: 1 },
    ]);
    expect(book.asks.depth(2)).to.deep.equal([
      { price: 103n, quantity: 14n, orderCount: 2 },
      { price: 104n, quantity: 7n, orderCount: 1 },
    ]);
    expect(book.bestBid()).to.equal(102n);
    expect(book.bestAsk()).to.equal(103n);
  });

  it('queues orders at a price first in, first out, and cancels from anywhere in O(1)', () => {
    const { store, book, order } = fixture();
    const refs = [1, 2, 3, 4, 5].map((q) => order('sell', 100, q));
    for (const r of refs) book.add(r);
    const level = book.asks.best()!;
    expect(queue(store, level.head)).to.deep.equal([1, 2, 3, 4, 5]);
    book.remove(refs[2]!); // middle
    book.remove(refs[0]!); // front
    book.remove(refs[4]!); // back
    expect(queue(store, level.head)).to.deep.equal([2, 4]);
    expect(refs.map((r) => store.isOnBook(r))).to.deep.equal([false, true, false, true, false]);
    expect(store.id(level.tail)).to.equal(4);
    expect(level.volume).to.equal(6n);
    expect(level.count).to.equal(2);
    book.add(refs[0]!); // a re-added order goes to the back
    expect(queue(store, level.head)).to.deep.equal([2, 4, 1]);
  });

  it('drops a level when its last order leaves, and best() moves to the next price', () => {
    const { book, order } = fixture();
    const a = order('buy', 99, 1);
    const b = order('buy', 98, 1);
    book.add(a);
    book.add(b);
    book.remove(a);
    expect(book.bestBid()).to.equal(98n);
    expect(book.bids.levelCount()).to.equal(1);
    book.remove(b);
    expect(book.bestBid()).to.equal(undefined);
    expect(book.bids.depth(5)).to.deep.equal([]);
  });

  it('stays sorted and consistent under random adds and removes, whatever the number of levels', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 50 }), fc.nat()), { maxLength: 300 }),
        (steps) => {
          const { store, book, order } = fixture();
          const live: OrderRef[] = [];
          const model = new Map<number, { price: number; qty: number }>();
          for (const [add, price, q, pick] of steps) {
            if (add || live.length === 0) {
              const r = order('sell', price, q);
              book.add(r);
              live.push(r);
              model.set(store.id(r), { price, qty: q });
            } else {
              const r = live.splice(pick % live.length, 1)[0]!;
              book.remove(r);
              model.delete(store.id(r));
            }
          }
          const expected = new Map<number, { quantity: number; ids: number[] }>();
          for (const [id, { price, qty }] of [...model.entries()].sort((x, y) => x[0] - y[0])) {
            const level = expected.get(price) ?? { quantity: 0, ids: [] };
            level.quantity += qty;
            level.ids.push(id);
            expected.set(price, level);
          }
          const prices = [...expected.keys()].sort((x, y) => x - y);
          expect(book.asks.depth(1000)).to.deep.equal(
            prices.map((p) => ({ price: BigInt(p), quantity: BigInt(expected.get(p)!.quantity), orderCount: expected.get(p)!.ids.length })),
          );
          prices.forEach((p, rank) => expect(queue(store, book.asks.nthBest(rank)!.head)).to.deep.equal(expected.get(p)!.ids));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('planTake: what a taker would fill, without changing anything', () => {
  it('reports the quantity and cost it would fill when the book runs short, and where self-trade prevention stops it', () => {
    const { store, book, order } = fixture();
    const alice = 0;
    // Asks: 2 at 100 (bob), 3 at 100 (alice), 4 at 101 (bob); prices in units of 10^-6, quantities of 10^-8.
    const bob = (price: number, quantity: number) => order('sell', price, quantity, new Account('bob', 1, 10));
    for (const r of [bob(100_000_000, 2), order('sell', 100_000_000, 3), bob(101_000_000, 4)]) book.add(r);
    const before = book.asks.depth(10);
    // Costs: 100_000_000 × 2 / 10^6 = 200 units, × 3 = 300; 101_000_000 × 4 / 10^6 = 404.
    expect(planTake(store, book, alice, 'buy', undefined, 20, 'cancel_resting')).to.deep.equal({ filled: 6, cost: 604, stoppedBySelfTrade: false });
    expect(planTake(store, book, alice, 'buy', 100_000_000, 20, 'cancel_resting')).to.deep.equal({ filled: 2, cost: 200, stoppedBySelfTrade: false });
    expect(planTake(store, book, alice, 'buy', undefined, 20, 'cancel_taker')).to.deep.equal({ filled: 2, cost: 200, stoppedBySelfTrade: true });
    expect(planTake(store, book, 1, 'buy', undefined, 5, 'cancel_taker')).to.deep.equal({ filled: 0, cost: 0, stoppedBySelfTrade: true });
    expect(planTake(store, book, 2, 'buy', undefined, 4, 'cancel_taker')).to.deep.equal({ filled: 4, cost: 400, stoppedBySelfTrade: false });
    expect(book.asks.depth(10)).to.deep.equal(before);
  });
});
