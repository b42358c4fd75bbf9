/** Engine state against the reference exchange's, through the engine's public queries and snapshot. */
import { expect } from 'chai';
import fc from 'fast-check';
import type { BookSide } from '../src/book';
import type { Engine, Side } from '../src/index';
import { NO_ORDER } from '../src/order-store';
import { restoreSnapshot } from '../src/snapshot';
import { EngineState } from '../src/state';
import type { ReferenceExchange } from './reference-matcher';

// Under mutation testing a failure is all that matters: stop there instead of shrinking it.
if (process.env.ENGINE_MUTATION === '1') fc.configureGlobal({ endOnFailure: true });

/**
 * How many runs the random tests make: few by default, many under `make test-deep`, fewest under
 * `make mutation`, where every surviving mutant runs every test that reaches it.
 */
export function runs(fast: number): number {
  const deep = Number(process.env.ENGINE_DEEP_RUNS ?? 0);
  if (deep > 0) return deep;
  return process.env.ENGINE_MUTATION === '1' ? 4 : fast;
}

/** A level: price, total remaining, order ids in queue order. */
export type Level = [bigint, bigint, number[]];
export type Book = Record<string, Record<Side, Level[]>>;

/**
 * Every level of every market, best first, with its queue, as the engine's own snapshot restores
 * them: the differential tests compare the reference with what survives a snapshot.
 */
export function engineBook(engine: Engine): Book {
  const state = new EngineState({ markets: engine.markets(), closedOrdersRetainedPerUser: Number.MAX_SAFE_INTEGER });
  restoreSnapshot(state, engine.snapshot());
  const { store } = state;
  const levels = (side: BookSide): Level[] => {
    const out: Level[] = [];
    for (let rank = 0; rank < side.levelCount(); rank++) {
      const ids: number[] = [];
      let remaining = 0n;
      for (let o = side.nthBest(rank)!.head; o !== NO_ORDER; o = store.next(o)) {
        ids.push(store.id(o));
        remaining += BigInt(store.remaining(o));
      }
      out.push([side.nthBest(rank)!.priceUnits, remaining, ids]);
    }
    return out;
  };
  return Object.fromEntries(state.markets.map((m) => [m.symbol, { buy: levels(m.book.bids), sell: levels(m.book.asks) }]));
}

export function referenceBook(reference: ReferenceExchange, symbols: readonly string[]): Book {
  return Object.fromEntries(symbols.map((s) => [s, { buy: reference.levels(s, 'buy'), sell: reference.levels(s, 'sell') }]));
}

/**
 * The book at full depth (every queue in order, and what the depth query shows), every balance of
 * every user, and every retained order's view agree with the reference.
 */
export function expectSameState(
  engine: Engine,
  reference: ReferenceExchange,
  users: readonly string[],
  assets: readonly string[],
  where: string,
): void {
  const symbols = engine.markets().map((m) => m.symbol);
  const book = engineBook(engine);
  expect(book, `${where} book`).to.deep.equal(referenceBook(reference, symbols));
  for (const symbol of symbols) {
    const depth = engine.depth(symbol, 1_000_000)!;
    const shown = (levels: Level[]) => levels.map(([price, quantity, ids]) => ({ price, quantity, orderCount: ids.length }));
    expect(depth, `${where} depth`).to.deep.equal({
      market: symbol, bids: shown(book[symbol]!.buy), asks: shown(book[symbol]!.sell), bookSeq: reference.bookSeq(symbol),
    });
  }
  for (const userId of users) {
    const balances = engine.balances(userId);
    for (const asset of assets) {
      const { available, locked } = balances.find((b) => b.asset === asset)!;
      expect({ available, locked }, `${where} ${userId} ${asset}`).to.deep.equal(reference.balance(userId, asset));
    }
    expect(engine.listOrders(userId, { openOnly: false, limit: 1_000_000 }), `${where} ${userId} orders`).to.deep.equal(reference.listOrders(userId));
    expect(engine.ledger(userId, { limit: 1_000_000 }), `${where} ${userId} ledger`).to.deep.equal(reference.ledger(userId));
    expect(engine.listFills(userId, { limit: 1_000_000 }), `${where} ${userId} fills`).to.deep.equal(reference.fills(userId));
  }
  for (const symbol of symbols) {
    expect(engine.recentTrades(symbol, 1_000_000), `${where} ${symbol} trades`).to.deep.equal(reference.recentTrades(symbol));
  }
}

/** Tickers and candles of every market at `now` agree with the reference's, computed from every trade. */
export function expectSameTickers(engine: Engine, reference: ReferenceExchange, now: number, where: string): void {
  for (const { symbol } of engine.markets()) {
    expect(engine.ticker(symbol, now), `${where} ${symbol} ticker`).to.deep.equal(reference.ticker(symbol, now));
    for (const interval of [1, 5, 60]) {
      expect(engine.candles(symbol, interval, now, 1_000_000), `${where} ${symbol} ${interval}m candles`).to.deep.equal(reference.candles(symbol, interval, now));
    }
  }
}
