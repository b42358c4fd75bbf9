/**
 * Stop orders waiting for their trigger, per market: off the book, in trigger order.
 *
 * The rules (also in the README):
 * - A buy stop triggers when a trade of its market prints at or above its stop price, a sell stop at
 *   or below. Only trades printed after the stop was accepted count: the engine keeps no last price,
 *   so a stop is never triggered, nor rejected, at entry.
 * - After every command that traded, the stops its trades reach trigger in rounds: buy stops (lowest
 *   stop price first), then sell stops (highest first), ties in arrival order. Each triggered stop
 *   executes as the order it becomes, at once; the trades of a round's stops make the next round.
 * - At most STOP_TRIGGERS_PER_COMMAND stops trigger in one command: the cascade stops there, and
 *   the stops it did not reach stay waiting for the next trade that reaches them.
 * - A user has at most maxStopsPerUserMarket stops waiting in one market; past it a new stop (an OCO
 *   pair's too) is refused, FAILED_PRECONDITION naming stop_price.
 */
import type { OrderRef, OrderStore } from './order-store';
import { DeadlineQueue } from './timers';

/** The bound on the stops one command triggers (its cascade included). */
export const STOP_TRIGGERS_PER_COMMAND = 64;

/** The default bound on the stops one user may have waiting in one market (EngineConfig.maxStopsPerUserMarket). */
export const DEFAULT_MAX_STOPS_PER_USER_MARKET = 1000;

/**
 * The price a stop-market buy's lock is computed at: its stop price plus a tenth, rounded up —
 * stopPrice + ceil(stopPrice / 10), in integer arithmetic (exact while the result is a safe
 * integer; callers refuse one above the bound on an order's price).
 */
export function stopMarketBuyLockPrice(stopPrice: number): number {
  const remainder = stopPrice % 10;
  return stopPrice + (stopPrice - remainder) / 10 + (remainder === 0 ? 0 : 1);
}

/** The waiting stops of one side of a market: a FIFO per stop price, the prices in a heap. */
class StopSide {
  /** Per stop price, its stops in arrival order (a Set keeps insertion order and deletes in O(1)). */
  private readonly levels = new Map<number, Set<OrderRef>>();
  /** The stop prices of `levels`, the first to trigger on top: O(log n) to add or drop a price. */
  private readonly prices = new DeadlineQueue();

  constructor(
    /** Whether the lowest stop price triggers first (buys) or the highest (sells). */
    private readonly lowestFirst: boolean,
  ) {}

  add(price: number, order: OrderRef): void {
    let level = this.levels.get(price);
    if (level === undefined) {
      level = new Set();
      this.levels.set(price, level);
      this.prices.set(price, this.lowestFirst ? price : -price);
    }
    level.add(order);
  }

  remove(price: number, order: OrderRef): boolean {
    const level = this.levels.get(price);
    if (level === undefined || !level.delete(order)) return false;
    if (level.size === 0) this.drop(price);
    return true;
  }

  /** Moves into `out`, in trigger order while `out` is below `limit`, the stops whose price `reaches`. */
  take(reaches: (price: number) => boolean, limit: number, out: OrderRef[]): void {
    while (out.length < limit && this.prices.size > 0) {
      const price = this.prices.peekKey();
      if (!reaches(price)) return;
      const level = this.levels.get(price)!;
      for (const order of level) {
        if (out.length >= limit) break;
        out.push(order);
        level.delete(order);
      }
      if (level.size === 0) this.drop(price);
    }
  }

  /** In trigger order. */
  all(): OrderRef[] {
    const prices = [...this.levels.keys()].sort((a, b) => (this.lowestFirst ? a - b : b - a));
    return prices.flatMap((price) => [...this.levels.get(price)!]);
  }

  private drop(price: number): void {
    this.levels.delete(price);
    this.prices.delete(price);
  }
}

/**
 * A market's waiting stops: placing, cancelling and triggering one is O(log n) in the number of
 * its stop prices. It also counts each user's waiting stops (the bound on them is the engine's).
 */
export class StopQueue {
  private readonly buys = new StopSide(true);
  private readonly sells = new StopSide(false);
  /** Waiting stops per account index. */
  private readonly perAccount: number[] = [];
  private count = 0;
  /** The stop price of the last stop restored per side, which the next must not trigger before. */
  private lastRestored: [number, number] = [-Infinity, Infinity];

  constructor(private readonly store: OrderStore) {}

  get size(): number {
    return this.count;
  }

  /** The user's stops waiting in this market. */
  waitingOf(accountIndex: number): number {
    return this.perAccount[accountIndex] ?? 0;
  }

  /** Adds a waiting stop behind those of the same stop price. */
  add(order: OrderRef): void {
    const { store } = this;
    (store.isBuy(order) ? this.buys : this.sells).add(store.stopPrice(order), order);
    this.counted(order, 1);
  }

  remove(order: OrderRef): void {
    const { store } = this;
    if ((store.isBuy(order) ? this.buys : this.sells).remove(store.stopPrice(order), order)) this.counted(order, -1);
  }

  /**
   * Removes and returns, in trigger order and at most `limit` of them, the stops that trades
   * printed between `low` and `high` reach.
   */
  take(low: number, high: number, limit: number): OrderRef[] {
    const taken: OrderRef[] = [];
    this.buys.take((price) => price <= high, limit, taken);
    this.sells.take((price) => price >= low, limit, taken);
    for (const order of taken) this.counted(order, -1);
    return taken;
  }

  /** Buy stops then sell stops, each in trigger order: what a snapshot lists. */
  all(): OrderRef[] {
    return [...this.buys.all(), ...this.sells.all()];
  }

  /** Appends a stop read from a snapshot; false if it would be out of trigger order. */
  restore(order: OrderRef): boolean {
    const { store } = this;
    const buy = store.isBuy(order);
    const price = store.stopPrice(order);
    const side = buy ? 0 : 1;
    if (buy ? price < this.lastRestored[side] : price > this.lastRestored[side]) return false;
    this.lastRestored[side] = price;
    this.add(order);
    return true;
  }

  private counted(order: OrderRef, by: 1 | -1): void {
    const account = this.store.accountIndex(order);
    this.perAccount[account] = (this.perAccount[account] ?? 0) + by;
    this.count += by;
  }
}
