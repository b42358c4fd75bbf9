/**
 * The order book of one market: two sides of price levels, each best first.
 *
 * Levels of a side are kept in an array sorted so that the BEST level is LAST (asks descending,
 * bids ascending): matching consumes and removes the best level, which is then an O(1) pop, and new
 * levels usually appear near the best price, so the insertion splice moves few elements. A Map from
 * price to level finds an existing level in O(1). Levels are few in practice (tens to thousands);
 * the structure stays correct for any number, insertion being O(levels) in the worst case.
 */
import type { LevelView, Side } from './api';
import type { OrderRef, OrderStore } from './order-store';
import { PriceLevel } from './price-level';

export class BookSide {
  /** Sorted worst → best. */
  private readonly levels: PriceLevel[] = [];
  private readonly byPrice = new Map<number, PriceLevel>();

  private readonly isBid: boolean;

  constructor(readonly side: Side) {
    this.isBid = side === 'buy';
  }

  best(): PriceLevel | undefined {
    return this.levels[this.levels.length - 1];
  }

  /** Is `a` a better price than `b` on this side? */
  private better(a: number, b: number): boolean {
    return this.isBid ? a > b : a < b;
  }

  /** Index of the first level (worst → best order) whose price is better than or equal to `price`. */
  private position(price: number): number {
    let lo = 0;
    let hi = this.levels.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.better(price, this.levels[mid]!.price)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The level at `price`, created (empty) if there is none. */
  levelAt(price: number): PriceLevel {
    let level = this.byPrice.get(price);
    if (level === undefined) {
      level = new PriceLevel(this.side, price);
      this.byPrice.set(price, level);
      const best = this.best();
      if (best === undefined || this.better(price, best.price)) this.levels.push(level);
      else this.levels.splice(this.position(price), 0, level);
    }
    return level;
  }

  existingLevel(price: number): PriceLevel | undefined {
    return this.byPrice.get(price);
  }

  /** Drops an empty level. */
  removeLevel(level: PriceLevel): void {
    this.byPrice.delete(level.price);
    if (this.best() === level) this.levels.pop();
    else this.levels.splice(this.position(level.price), 1);
  }

  levelCount(): number {
    return this.levels.length;
  }

  /** The level `rank` places behind the best (0: the best itself). */
  nthBest(rank: number): PriceLevel | undefined {
    return this.levels[this.levels.length - 1 - rank];
  }

  depth(levels: number): LevelView[] {
    const out: LevelView[] = [];
    for (let i = this.levels.length - 1; i >= 0 && out.length < levels; i--) {
      const level = this.levels[i]!;
      out.push({ price: level.priceUnits, quantity: level.volume, orderCount: level.count });
    }
    return out;
  }
}

/** The default bound on the orders one user may have resting in one market (EngineConfig.maxOpenOrdersPerUserMarket). */
export const DEFAULT_MAX_OPEN_ORDERS_PER_USER_MARKET = 10_000;

export class OrderBook {
  readonly bids = new BookSide('buy');
  readonly asks = new BookSide('sell');
  /** Book sequence number: +1 per bookLevel event of this market. */
  seq = 0;
  /** Resting orders per account index: what the bound on a user's open orders counts. */
  private readonly perAccount: number[] = [];

  constructor(
    readonly symbol: string,
    private readonly store: OrderStore,
  ) {}

  /** The side an incoming order of `side` matches against. */
  opposite(side: Side): BookSide {
    return side === 'buy' ? this.asks : this.bids;
  }

  bestBid(): bigint | undefined {
    return this.bids.best()?.priceUnits;
  }

  bestAsk(): bigint | undefined {
    return this.asks.best()?.priceUnits;
  }

  /** Rests a limit order at the back of its price level; returns the level. */
  add(order: OrderRef): PriceLevel {
    const store = this.store;
    const level = (store.isBuy(order) ? this.bids : this.asks).levelAt(store.price(order));
    level.append(store, order);
    this.counted(order, 1);
    return level;
  }

  /** The user's orders resting in this book. */
  restingOf(accountIndex: number): number {
    return this.perAccount[accountIndex] ?? 0;
  }

  /** Counts an order onto (+1) or off (-1) the book: add and remove do, and a snapshot's restore, which links its orders into levels directly. */
  counted(order: OrderRef, change: 1 | -1): void {
    const account = this.store.accountIndex(order);
    this.perAccount[account] = (this.perAccount[account] ?? 0) + change;
  }

  /** The level a resting order stands in. */
  levelOf(order: OrderRef): PriceLevel {
    const store = this.store;
    return (store.isBuy(order) ? this.bids : this.asks).existingLevel(store.price(order))!;
  }

  /** Takes a resting order off the book, dropping its level if it empties; returns the level. */
  remove(order: OrderRef): PriceLevel {
    const store = this.store;
    const side = store.isBuy(order) ? this.bids : this.asks;
    const level = side.existingLevel(store.price(order))!;
    level.remove(store, order);
    this.counted(order, -1);
    if (level.count === 0) side.removeLevel(level);
    return level;
  }
}
