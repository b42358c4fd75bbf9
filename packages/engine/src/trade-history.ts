/**
 * What the engine keeps of past trades: each market's newest trades and ticker buckets, and each
 * user's newest fills (the trades they were maker or taker in). Part of the state (snapshot and
 * hash), so history survives a restart and is the same on every replica. Bounded: at most
 * tradesRetainedPerMarket trades per market and fillsRetainedPerUser per user, one object per
 * trade shared by every ring that holds it.
 */
import type { TradeView } from './api';
import { MarketTicker } from './ticker';
import { TradeRing } from './trade-ring';

export const DEFAULT_FILLS_RETAINED_PER_USER = 100;
export const DEFAULT_TRADES_RETAINED_PER_MARKET = 1000;

export class TradeHistory {
  /** By market index. */
  readonly markets: TradeRing[] = [];
  readonly tickers: MarketTicker[] = [];
  /** By account index; created at an account's first fill. */
  private readonly users: (TradeRing | undefined)[] = [];

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

  /** One trade of market `market` between the accounts `maker` and `taker`; price, quantity and quote in units. */
  record(trade: TradeView, market: number, maker: number, taker: number, price: number, quantity: number, quote: number): void {
    this.markets[market]!.push(trade);
    this.tickers[market]!.record(price, quantity, quote, trade.timestamp);
    this.fillsOf(maker).push(trade);
    this.fillsOf(taker).push(trade);
  }

  /** The account's ring (created empty if it has none). */
  fillsOf(account: number): TradeRing {
    return (this.users[account] ??= new TradeRing(this.perUser));
  }

  /** The account's ring if it has had a fill. */
  existingFills(account: number): TradeRing | undefined {
    return this.users[account];
  }

  /** Whether nothing was ever traded (what stateHash leaves out). */
  isEmpty(): boolean {
    return this.tickers.every((t) => t.lastPrice === 0);
  }
}
