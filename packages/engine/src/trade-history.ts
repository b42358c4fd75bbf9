/**
 * What the engine keeps of past trades: each market's newest trades and ticker buckets, and each
 * user's newest fills (the trades they were maker or taker in), as typed rows (trade-ring.ts).
 * Part of the state (snapshot and hash), so history survives a restart and is the same on every
 * replica. Bounded: at most tradesRetainedPerMarket rows per market (96 bytes each) and
 * fillsRetainedPerUser per user (64 bytes each). A fill row holds only its user's side: recording
 * a trade writes three narrow rows in place and allocates no object; quote amounts, sides and fee
 * assets are derived when a query asks (queries.ts).
 */
import { MarketTicker } from './ticker';
import { FILL as FILL_OFFSETS, FILL_BUYS, FILL_FIELDS, FILL_TAKER, FillRings, TRADE as TRADE_OFFSETS, TRADE_FIELDS, TradeRing } from './trade-ring';

/**
 * Module-local copies: tsx (esbuild) compiles each use of an imported binding into getter calls,
 * measured at 10-15% of the engine's time.
 */
const TRADE = TRADE_OFFSETS;
const FILL = FILL_OFFSETS;
const TAKER = FILL_TAKER;
const BUYS = FILL_BUYS;

export const DEFAULT_FILLS_RETAINED_PER_USER = 100;
export const DEFAULT_TRADES_RETAINED_PER_MARKET = 1000;

export class TradeHistory {
  /** By market index. */
  readonly markets: TradeRing[] = [];
  readonly tickers: MarketTicker[] = [];
  /** Every account's fills. */
  fills: FillRings;

  constructor(
    marketCount: number,
    public perMarket: number,
    public perUser: number,
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

  /**
   * New bounds (a configure command): the rings are copied into rings of the new sizes, keeping
   * the newest rows; `accounts` is how many accounts there are.
   */
  resize(perMarket: number, perUser: number, accounts: number): void {
    if (perMarket !== this.perMarket) {
      this.markets.forEach((old, m) => {
        const ring = new TradeRing(perMarket, TRADE_FIELDS);
        const rows = old.copyRows();
        for (let at = Math.max(0, rows.length - perMarket * TRADE_FIELDS); at < rows.length; at += TRADE_FIELDS) ring.push(rows.subarray(at, at + TRADE_FIELDS));
        this.markets[m] = ring;
      });
      this.perMarket = perMarket;
    }
    if (perUser !== this.perUser) {
      const fills = new FillRings(perUser);
      for (let account = 0; account < accounts; account++) {
        const rows = this.fills.copyRows(account);
        for (let at = Math.max(0, rows.length - perUser * FILL_FIELDS); at < rows.length; at += FILL_FIELDS) fills.push(account, rows.subarray(at, at + FILL_FIELDS));
      }
      this.fills = fills;
      this.perUser = perUser;
    }
  }

  /** Whether nothing was ever traded (a snapshot then leaves the history out). */
  isEmpty(): boolean {
    return this.tickers.every((t) => t.lastPrice === 0);
  }
}
