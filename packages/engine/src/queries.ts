/** The read side: what the engine answers about orders, books and balances. Never changes state. */
import type {
  BalanceView,
  CandleView,
  DepthView,
  EngineLimits,
  EngineQueries,
  FillView,
  LedgerEntryView,
  LedgerQuery,
  ListFillsQuery,
  ListOrdersQuery,
  MarketConfig,
  OrderView,
  TickerView,
  TradeView,
} from './api';
import type { Market } from './market';
import { NO_ORDER as NONE, type OrderRef } from './order-store';
import { quoteAmount } from './settlement';
import type { EngineState } from './state';
import { TICKER_WINDOW_MINUTES } from './ticker';
import { FILL, FILL_BUYS, FILL_TAKER, type FillRings, TRADE, type TradeRing } from './trade-ring';

/**
 * A module-local copy: tsx (esbuild) compiles each use of an imported binding into getter calls,
 * measured at 10-15% of the engine's time.
 */
const NO_ORDER = NONE;

export class Queries implements EngineQueries {
  constructor(private readonly state: EngineState) {}

  markets(): readonly MarketConfig[] {
    return this.state.config.markets;
  }

  /** The order if it is retrievable and `userId`'s, else NO_ORDER. */
  ownOrder(userId: string, orderId: number): OrderRef {
    const order = this.state.orders.get(orderId);
    return order !== NO_ORDER && this.state.store.userId(order) === userId ? order : NO_ORDER;
  }

  /** The retained order of `userId` with this client order id, else NO_ORDER. */
  ownOrderByClientOrderId(userId: string, clientOrderId: string): OrderRef {
    return this.state.accounts.get(userId)?.orderByClientOrderId(clientOrderId) ?? NO_ORDER;
  }

  getOrder(userId: string, orderId: number): OrderView | undefined {
    const order = this.ownOrder(userId, orderId);
    return order === NO_ORDER ? undefined : this.state.store.view(order);
  }

  listOrders(userId: string, query: ListOrdersQuery): readonly OrderView[] {
    const account = this.state.accounts.get(userId);
    if (account === undefined || query.limit <= 0) return [];
    const store = this.state.store;
    const before = query.beforeOrderId ?? Infinity;
    const market = query.market === undefined ? undefined : this.state.marketsBySymbol.get(query.market);
    if (query.market !== undefined && market === undefined) return [];
    const wanted = (order: OrderRef): boolean => store.id(order) < before && (market === undefined || store.marketIndex(order) === market.index);
    const selected = account.openOrders(store).filter(wanted);
    if (!query.openOnly) selected.push(...account.closedOrders(store).filter(wanted));
    selected.sort((a, b) => store.id(b) - store.id(a));
    return selected.slice(0, query.limit).map((order) => store.view(order));
  }

  depth(market: string, levels: number): DepthView | undefined {
    const book = this.state.marketsBySymbol.get(market)?.book;
    if (book === undefined) return undefined;
    return { market, bids: book.bids.depth(levels), asks: book.asks.depth(levels), bookSeq: book.seq };
  }

  /** Every asset the engine trades, zero where the user holds none. */
  balances(userId: string): readonly BalanceView[] {
    const account = this.state.accounts.get(userId);
    const ledger = this.state.balances;
    return this.state.assets.map((asset, i) => {
      if (account === undefined) return { asset, available: 0n, locked: 0n };
      const ref = ledger.ref(account.index, i);
      return { asset, available: ledger.available(ref), locked: ledger.locked(ref) };
    });
  }

  listFills(userId: string, query: ListFillsQuery): readonly FillView[] {
    const account = this.state.accounts.get(userId);
    if (account === undefined) return [];
    const { fills } = this.state.history;
    const size = fills.size(account.index);
    const before = query.beforeTradeId ?? Infinity;
    const from = query.from ?? -Infinity;
    const to = query.to ?? Infinity;
    const market = query.market === undefined ? undefined : this.state.marketsBySymbol.get(query.market);
    if (query.market !== undefined && market === undefined) return [];
    const out: FillView[] = [];
    for (let i = 0; i < size && out.length < query.limit; i++) {
      const timestamp = fills.newest(account.index, i, FILL.timestamp);
      if (fills.newest(account.index, i, FILL.tradeId) >= before || timestamp < from || timestamp >= to) continue;
      if (market !== undefined && fillMarket(fills, account.index, i) !== market.index) continue;
      out.push(fillViewOf(fills, account.index, i, this.state.markets));
    }
    return out;
  }

  recentTrades(market: string, limit: number): readonly TradeView[] | undefined {
    const found = this.state.marketsBySymbol.get(market);
    if (found === undefined) return undefined;
    const ring = this.state.history.markets[found.index]!;
    const userIds = (account: number): string => this.state.accountList[account]!.userId;
    const out: TradeView[] = [];
    for (let i = 0; i < ring.size && i < limit; i++) out.push(tradeViewOf(ring, i, found, userIds));
    return out;
  }

  ticker(market: string, now: number): TickerView | undefined {
    const found = this.state.marketsBySymbol.get(market);
    if (found === undefined) return undefined;
    return this.state.history.tickers[found.index]!.ticker(market, found.book.bestBid(), found.book.bestAsk(), now);
  }

  candles(market: string, intervalMinutes: number, now: number, limit: number): readonly CandleView[] | undefined {
    const found = this.state.marketsBySymbol.get(market);
    if (found === undefined) return undefined;
    if (!Number.isSafeInteger(intervalMinutes) || intervalMinutes < 1 || TICKER_WINDOW_MINUTES % intervalMinutes !== 0) {
      throw new RangeError(`candle interval ${intervalMinutes} minutes does not divide ${TICKER_WINDOW_MINUTES}`);
    }
    return this.state.history.tickers[found.index]!.candles(intervalMinutes, now, limit);
  }

  ledger(userId: string, query: LedgerQuery): readonly LedgerEntryView[] {
    const account = this.state.accounts.get(userId);
    if (account === undefined) return [];
    const entries = this.state.ledger.entriesOf(account.index);
    const before = query.beforeSeq ?? Infinity;
    const out: LedgerEntryView[] = [];
    for (let i = entries.length - 1; i >= 0 && out.length < query.limit; i--) if (entries[i]!.seq < before) out.push(entries[i]!);
    return out;
  }

  lastSeq(): number {
    return this.state.lastSeq;
  }

  limits(): EngineLimits {
    return this.state.limits;
  }

  nextDeadline(): number {
    return this.state.timers.nextDeadline();
  }

  deadManDeadline(userId: string): number | undefined {
    const account = this.state.accounts.get(userId);
    return account === undefined ? undefined : this.state.timers.deadMan.deadlineOf(account.index);
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
  const buys = (flags & FILL_BUYS) !== 0;
  const market = markets[Math.floor(flags / 4)]!;
  const price = f(FILL.price);
  const quantity = f(FILL.quantity);
  return {
    tradeId: f(FILL.tradeId),
    market: market.symbol,
    orderId: f(FILL.orderId),
    side: buys ? 'buy' : 'sell',
    liquidity: (flags & FILL_TAKER) !== 0 ? 'taker' : 'maker',
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
