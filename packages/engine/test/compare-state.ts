/** Engine state against the reference exchange's, through the engine's public queries and snapshot. */
import { expect } from 'chai';
import type { Engine, Side } from '../src/index';
import type { ReferenceExchange } from './reference-matcher';

/** How many runs the random tests make: few by default, many under `make test-deep`. */
export function runs(fast: number): number {
  const deep = Number(process.env.ENGINE_DEEP_RUNS ?? 0);
  return deep > 0 ? deep : fast;
}

/** A level: price, total remaining, order ids in queue order. */
export type Level = [bigint, bigint, number[]];
export type Book = Record<string, Record<Side, Level[]>>;

/** Every level of every market, best first, with its queue, read from the engine's own snapshot. */
export function engineBook(engine: Engine): Book {
  const snap = JSON.parse(engine.snapshot()) as { markets: { symbol: string; bids: unknown[][][]; asks: unknown[][][] }[] };
  const levels = (orders: unknown[][][]): Level[] =>
    orders.map((level) => [
      BigInt(level[0]![6] as string),
      level.reduce((a, o) => a + BigInt(o[7] as string) - BigInt(o[8] as string), 0n),
      level.map((o) => o[0] as number),
    ]);
  return Object.fromEntries(snap.markets.map((m) => [m.symbol, { buy: levels(m.bids), sell: levels(m.asks) }]));
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
  }
}
