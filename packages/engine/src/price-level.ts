/**
 * One price level: a FIFO queue of resting orders (a doubly-linked list through the orders'
 * PREV/NEXT fields, so removing any order is O(1) whatever the queue length) with its total volume.
 */
import type { Side } from './api';
import { NO_ORDER as NONE, type OrderRef, type OrderStore } from './order-store';

/**
 * A module-local copy: tsx (esbuild) compiles each use of an imported binding into getter calls,
 * measured at 10-15% of the engine's time.
 */
const NO_ORDER = NONE;

export class PriceLevel {
  /** Sum of the remaining quantities: a bigint, as many orders' quantities may add up past 2^53. */
  volume = 0n;
  count = 0;
  head: OrderRef = NO_ORDER;
  tail: OrderRef = NO_ORDER;
  /** Seq of the last command that changed this level (one bookLevel event per level per command). */
  mark = 0;
  /** The price as the API carries it. */
  readonly priceUnits: bigint;

  constructor(
    readonly side: Side,
    readonly price: number,
  ) {
    this.priceUnits = BigInt(price);
  }

  /** Queues `order` behind every order already at this price (time priority). */
  append(store: OrderStore, order: OrderRef): void {
    this.link(store, order);
    this.volume += BigInt(store.remaining(order));
  }

  /**
   * Queues `order` like append() but leaves the volume to the caller: a restore sums a level's
   * quantities as numbers and converts once per level, not a bigint per order.
   */
  link(store: OrderStore, order: OrderRef): void {
    store.setPrev(order, this.tail);
    store.setNext(order, NO_ORDER);
    if (this.tail === NO_ORDER) this.head = order;
    else store.setNext(this.tail, order);
    this.tail = order;
    store.setOnBook(order, true);
    this.count++;
  }

  /** Unlinks `order`, which rests here, and takes its remaining quantity off the volume. */
  remove(store: OrderStore, order: OrderRef): void {
    const prev = store.prev(order);
    const next = store.next(order);
    if (prev === NO_ORDER) this.head = next;
    else store.setNext(prev, next);
    if (next === NO_ORDER) this.tail = prev;
    else store.setPrev(next, prev);
    store.setOnBook(order, false);
    const remaining = store.remaining(order);
    if (remaining !== 0) this.volume -= BigInt(remaining);
    this.count--;
  }

  /** A resting order here traded `quantity`: only the volume changes, its queue position stays. */
  reduce(quantity: bigint): void {
    this.volume -= quantity;
  }
}
