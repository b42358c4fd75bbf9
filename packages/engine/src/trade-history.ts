/**
 * What the engine keeps of past trades: each market's newest trades and ticker buckets, and each
 * user's newest fills (the trades they were maker or taker in), as typed rows (trade-ring.ts).
 * Part of the state (snapshot and hash), so history survives a restart and is the same on every
 * replica. Bounded: at most tradesRetainedPerMarket rows per market and fillsRetainedPerUser per
 * user, 112 bytes each.
 */
import type { FillView, TradeView } from './api';
import type { Market } from './market';
import { MarketTicker } from './ticker';
import { ROW as ROW_OFFSETS, ROW_FIELDS, TradeRing } from './trade-ring';

/**
 * A module-local copy: tsx (esbuild) compiles each use of an imported binding into getter calls,
 * measured at 10-15% of the engine's time.
 */
const ROW = ROW_OFFSETS;

export const DEFAULT_FILLS_RETAINED_PER_USER = 100;
export const DEFAULT_TRADES_RETAINED_PER_MARKET = 1000;

export class TradeHistory {
  /** By market index. */
  readonly markets: TradeRing[] = [];
  readonly tickers: MarketTicker[] = [];
  /** By account index; created at an account's first fill. */
  private readonly users: (TradeRing | undefined)[] = [];
  /** The row being recorded: filled in place, then copied into the rings. */
  private readonly row = new Float64Array(ROW_FIELDS);

  constructor(
    marketCount: number,
    readonly perMarket: number,
    readonly perUser: number,
  ) {
    for (let m = 0; m < marketCount; m++) {
      this.markets.push(new TradeRing(perMarket));
      this.tickers.push(new MarketTicker());
    }
  }

  /** One trade, in units, between the accounts `makerAccount` and `takerAccount`. */
  record(
    tradeId: number, market: number, price: number, quantity: number, quoteAmount: number, makerOrderId: number, takerOrderId: number,
    makerAccount: number, takerAccount: number, takerSells: boolean, timestamp: number, seq: number, makerFee: number, takerFee: number,
  ): void {
    const row = this.row;
    row[ROW.tradeId] = tradeId;
    row[ROW.market] = market;
    row[ROW.price] = price;
    row[ROW.quantity] = quantity;
    row[ROW.quoteAmount] = quoteAmount;
    row[ROW.makerOrderId] = makerOrderId;
    row[ROW.takerOrderId] = takerOrderId;
    row[ROW.makerAccount] = makerAccount;
    row[ROW.takerAccount] = takerAccount;
    row[ROW.takerSells] = takerSells ? 1 : 0;
    row[ROW.timestamp] = timestamp;
    row[ROW.seq] = seq;
    row[ROW.makerFee] = makerFee;
    row[ROW.takerFee] = takerFee;
    this.markets[market]!.push(row);
    this.tickers[market]!.record(price, quantity, quoteAmount, timestamp);
    this.fillsOf(makerAccount).push(row);
    this.fillsOf(takerAccount).push(row);
  }

  /** The account's ring (created empty if it has none). */
  fillsOf(account: number): TradeRing {
    return (this.users[account] ??= new TradeRing(this.perUser));
  }

  /** The account's ring if it has had a fill. */
  existingFills(account: number): TradeRing | undefined {
    return this.users[account];
  }

  /** Whether nothing was ever traded (a snapshot then leaves the history out). */
  isEmpty(): boolean {
    return this.tickers.every((t) => t.lastPrice === 0);
  }
}

/** The i-th newest trade of `ring` as a TradeView; `userIds` by account index. */
export function tradeViewOf(ring: TradeRing, i: number, markets: readonly Market[], userIds: (account: number) => string): TradeView {
  const f = (field: number): number => ring.newest(i, field);
  return {
    tradeId: f(ROW.tradeId),
    market: markets[f(ROW.market)]!.symbol,
    price: BigInt(f(ROW.price)),
    quantity: BigInt(f(ROW.quantity)),
    quoteAmount: BigInt(f(ROW.quoteAmount)),
    makerOrderId: f(ROW.makerOrderId),
    takerOrderId: f(ROW.takerOrderId),
    makerUserId: userIds(f(ROW.makerAccount)),
    takerUserId: userIds(f(ROW.takerAccount)),
    takerSide: f(ROW.takerSells) === 1 ? 'sell' : 'buy',
    makerFee: BigInt(f(ROW.makerFee)),
    takerFee: BigInt(f(ROW.takerFee)),
    timestamp: f(ROW.timestamp),
    seq: f(ROW.seq),
  };
}

/** The i-th newest fill of account `account`'s ring, as that user saw it (the other party stays out). */
export function fillViewOf(ring: TradeRing, i: number, account: number, markets: readonly Market[]): FillView {
  const f = (field: number): number => ring.newest(i, field);
  const taker = f(ROW.takerAccount) === account;
  const takerSells = f(ROW.takerSells) === 1;
  const buys = taker !== takerSells;
  const market = markets[f(ROW.market)]!;
  return {
    tradeId: f(ROW.tradeId),
    market: market.symbol,
    orderId: taker ? f(ROW.takerOrderId) : f(ROW.makerOrderId),
    side: buys ? 'buy' : 'sell',
    liquidity: taker ? 'taker' : 'maker',
    price: BigInt(f(ROW.price)),
    quantity: BigInt(f(ROW.quantity)),
    quoteAmount: BigInt(f(ROW.quoteAmount)),
    fee: BigInt(f(taker ? ROW.takerFee : ROW.makerFee)),
    // Each side pays in what it receives: a buyer the base asset, a seller the quote.
    feeAsset: buys ? market.config.base : market.config.quote,
    timestamp: f(ROW.timestamp),
    seq: f(ROW.seq),
  };
}
