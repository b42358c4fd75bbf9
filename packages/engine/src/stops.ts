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
 */
import { NO_ORDER, type OrderRef, type OrderStore } from './order-store';

/** The bound on the stops one command triggers (its cascade included). */
export const STOP_TRIGGERS_PER_COMMAND = 64;

/**
 * The price a stop-market buy's lock is computed at: its stop price plus a tenth, rounded up —
 * stopPrice + ceil(stopPrice / 10), in integer arithmetic (exact while the result is a safe
 * integer; callers refuse one above the bound on an order's price).
 */
export function stopMarketBuyLockPrice(stopPrice: number): number {
  const remainder = stopPrice % 10;
  return stopPrice + (stopPrice - remainder) / 10 + (remainder === 0 ? 0 : 1);
}

export class StopQueue {
  /** Waiting buy stops, lowest stop price first, then by arrival. */
  private readonly buys: OrderRef[] = [];
  /** Waiting sell stops, highest stop price first, then by arrival. */
  private readonly sells: OrderRef[] = [];

  constructor(private readonly store: OrderStore) {}

  get size(): number {
    return this.buys.length + this.sells.length;
  }

  /** Adds a waiting stop behind those of the same stop price. */
  add(order: OrderRef): void {
    const { store } = this;
    const price = store.stopPrice(order);
    const buy = store.isBuy(order);
    const list = buy ? this.buys : this.sells;
    let at = list.length;
    while (at > 0 && (buy ? store.stopPrice(list[at - 1]!) > price : store.stopPrice(list[at - 1]!) < price)) at--;
    list.splice(at, 0, order);
  }

  remove(order: OrderRef): void {
    const list = this.store.isBuy(order) ? this.buys : this.sells;
    const at = list.indexOf(order);
    if (at >= 0) list.splice(at, 1);
  }

  /**
   * Removes and returns, in trigger order and at most `limit` of them, the stops that trades
   * printed between `low` and `high` reach.
   */
  take(low: number, high: number, limit: number): OrderRef[] {
    const { store, buys, sells } = this;
    let b = 0;
    while (b < buys.length && b < limit && store.stopPrice(buys[b]!) <= high) b++;
    let s = 0;
    while (s < sells.length && b + s < limit && store.stopPrice(sells[s]!) >= low) s++;
    return [...buys.splice(0, b), ...sells.splice(0, s)];
  }

  /** Buy stops then sell stops, each in trigger order: what a snapshot lists. */
  all(): OrderRef[] {
    return [...this.buys, ...this.sells];
  }

  /** Appends a stop read from a snapshot; false if it would be out of trigger order. */
  restore(order: OrderRef): boolean {
    const { store } = this;
    const buy = store.isBuy(order);
    const list = buy ? this.buys : this.sells;
    const last = list.length === 0 ? NO_ORDER : list[list.length - 1]!;
    if (last !== NO_ORDER && (buy ? store.stopPrice(last) > store.stopPrice(order) : store.stopPrice(last) < store.stopPrice(order))) return false;
    list.push(order);
    return true;
  }
}
