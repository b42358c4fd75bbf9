/**
 * What the engine keeps of past trades: each market's newest trades and ticker buckets, and each
 * user's newest fills (the trades they were maker or taker in), as typed rows (trade-ring.ts).
 * Part of the state (snapshot and hash), so history survives a restart and is the same on every
 * replica. Bounded: at most tradesRetainedPerMarket rows per market (96 bytes each) and
 * fillsRetainedPerUser per user (64 bytes each). A fill row holds only its user's side: recording
 * a trade writes three narrow rows in place and allocates nothing; quote amounts, sides and fee
 * assets are derived when a query asks.
 */
import type { FillView, TradeView } from './api';
import type { Market } from './market';
import * as settlement from './settlement';
import { MarketTicker } from './ticker';
import { FILL as FILL_OFFSETS, FILL_BUYS, FILL_TAKER, FillRings, TRADE as TRADE_OFFSETS, TRADE_FIELDS, TradeRing } from './trade-ring';

/**
 * Module-local copies: tsx (esbuild) compiles each use of an imported binding into getter calls,
 * measured at 10-15% of the engine's time.
 */
const TRADE = TRADE_OFFSETS;
const FILL = FILL_OFFSETS;
const TAKER = FILL_TAKER;
const BUYS = FILL_BUYS;
const { quoteAmount } = settlement;

export const DEFAULT_FILLS_RETAINED_PER_USER = 100;
export const DEFAULT_TRADES_RETAINED_PER_MARKET = 1000;

export class TradeHistory {
  /** By market index. */
  readonly markets: TradeRing[] = [];
  readonly tickers: MarketTicker[] = [];
  /** Every account's fills. */
  readonly fills: FillRings;

  constructor(
    marketCount: number,
    readonly perMarket: number,
    readonly perUser: number,
  ) {
    this.fills = new FillRings(perUser);
    for (let m = 0; m < marketCount; m++) {
      this.markets.push(new TradeRing(perMarket, TRADE_FIELDS));
      this.tickers.push(new MarketTicker());
    }
  }

  /**
   * One trade, in units (`quote` = quoteAmount(price, quantity)), between the accounts `makerAccount`
   * and `takerAccount`.
   */
  record(
    tradeId: number, market: number, price: number, quantity: number, quote: number, makerOrderId: number, takerOrderId: number,
    makerAccount: number, takerAccount: number, takerBuys: boolean, timestamp: number, seq: number, makerFee: number, takerFee: number,
  ): void {
    const ring = this.markets[market]!;
    if (ring.capacity > 0) {
      const at = ring.claim();
      const rows = ring.rows;
      rows[at + TRADE.tradeId] = tradeId;
      rows[at + TRADE.price] = price;
      rows[at + TRADE.quantity] = quantity;
      rows[at + TRADE.makerOrderId] = makerOrderId;
      rows[at + TRADE.takerOrderId] = takerOrderId;
      rows[at + TRADE.makerAccount] = makerAccount;
      rows[at + TRADE.takerAccount] = takerAccount;
      rows[at + TRADE.takerSells] = takerBuys ? 0 : 1;
      rows[at + TRADE.timestamp] = timestamp;
      rows[at + TRADE.seq] = seq;
      rows[at + TRADE.makerFee] = makerFee;
      rows[at + TRADE.takerFee] = takerFee;
    }
    this.tickers[market]!.record(price, quantity, quote, timestamp);
    if (this.perUser === 0) return;
    const flags = market * 4;
    this.fill(makerAccount, tradeId, takerBuys ? flags : flags + BUYS, makerOrderId, price, quantity, makerFee, timestamp, seq);
    this.fill(takerAccount, tradeId, takerBuys ? flags + TAKER + BUYS : flags + TAKER, takerOrderId, price, quantity, takerFee, timestamp, seq);
  }

  private fill(
    account: number, tradeId: number, flags: number, orderId: number, price: number, quantity: number, fee: number, timestamp: number, seq: number,
  ): void {
    const fills = this.fills;
    const at = fills.claim(account);
    const rows = fills.rows;
    rows[at + FILL.tradeId] = tradeId;
    rows[at + FILL.flags] = flags;
    rows[at + FILL.orderId] = orderId;
    rows[at + FILL.price] = price;
    rows[at + FILL.quantity] = quantity;
    rows[at + FILL.fee] = fee;
    rows[at + FILL.timestamp] = timestamp;
    rows[at + FILL.seq] = seq;
  }

  /** Whether nothing was ever traded (a snapshot then leaves the history out). */
  isEmpty(): boolean {
    return this.tickers.every((t) => t.lastPrice === 0);
  }
}

/** The market index of the account's i-th newest fill. */
export function fillMarket(fills: FillRings, account: number, i: number): number {
  return Math.floor(fills.newest(account, i, FILL.flags) / 4);
}

/** The i-th newest trade of `market`'s ring as a TradeView; `userIds` by account index. */
export function tradeViewOf(ring: TradeRing, i: number, market: Market, userIds: (account: number) => string): TradeView {
  const f = (field: number): number => ring.newest(i, field);
  const price = f(TRADE.price);
  const quantity = f(TRADE.quantity);
  return {
    tradeId: f(TRADE.tradeId),
    market: market.symbol,
    price: BigInt(price),
    quantity: BigInt(quantity),
    quoteAmount: BigInt(quoteAmount(price, quantity)),
    makerOrderId: f(TRADE.makerOrderId),
    takerOrderId: f(TRADE.takerOrderId),
    makerUserId: userIds(f(TRADE.makerAccount)),
    takerUserId: userIds(f(TRADE.takerAccount)),
    takerSide: f(TRADE.takerSells) === 1 ? 'sell' : 'buy',
    makerFee: BigInt(f(TRADE.makerFee)),
    takerFee: BigInt(f(TRADE.takerFee)),
    timestamp: f(TRADE.timestamp),
    seq: f(TRADE.seq),
  };
}

/** The account's i-th newest fill, as that user saw it (the other party stays out). */
export function fillViewOf(fills: FillRings, account: number, i: number, markets: readonly Market[]): FillView {
  const f = (field: number): number => fills.newest(account, i, field);
  const flags = f(FILL.flags);
  const buys = (flags & BUYS) !== 0;
  const market = markets[Math.floor(flags / 4)]!;
  const price = f(FILL.price);
  const quantity = f(FILL.quantity);
  return {
    tradeId: f(FILL.tradeId),
    market: market.symbol,
    orderId: f(FILL.orderId),
    side: buys ? 'buy' : 'sell',
    liquidity: (flags & TAKER) !== 0 ? 'taker' : 'maker',
    price: BigInt(price),
    quantity: BigInt(quantity),
    quoteAmount: BigInt(quoteAmount(price, quantity)),
    fee: BigInt(f(FILL.fee)),
    // Each side pays in what it receives: a buyer the base asset, a seller the quote.
    feeAsset: buys ? market.config.base : market.config.quote,
    timestamp: f(FILL.timestamp),
    seq: f(FILL.seq),
  };
}
