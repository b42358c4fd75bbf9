/**
 * A user as the engine knows them: their row of the balance table, their open orders, and their
 * most recently closed orders up to the retention limit (evicted in the order they closed, oldest
 * first), with the client order ids in use among those, the trades each of those orders made when
 * placed (the answer to a retry), the stop orders of the pairs among them, and the request ids of
 * their last deposits (same bound).
 *
 * Both order lists run through the orders' own slots (OrderStore USER_PREV/USER_NEXT for open
 * orders; NEXT, free once an order has left the book, for the closed queue), and their ends are
 * plain fields here: measured, that is far cheaper than per-user Maps or arrays, which cost extra
 * cache misses on every order (lookup by id goes through the engine's one OrderIndex).
 */
import type { CancelReason, OrderStatus, TradeView } from './api';
import type { OrderIndex } from './order-index';
import { NO_ORDER as NONE, type OrderRef, type OrderStore } from './order-store';
import { forgetOldestBeyond } from './oldest-first';

/**
 * A module-local copy: tsx (esbuild) compiles each use of an imported binding into getter calls,
 * measured at 10-15% of the engine's time.
 */
const NO_ORDER = NONE;

/** What a deposit's request id stands for: a repeat must carry the same. */
export interface DepositRecord {
  readonly asset: string;
  readonly amount: bigint;
}

/** How a freed stop order of a pair ended: what its pair's retries still answer with. */
export interface FreedStop {
  /** Units; price 0 for a stop-market. */
  readonly price: number;
  readonly quantity: number;
  readonly filled: number;
  readonly status: OrderStatus;
  readonly cancelReason: CancelReason | undefined;
  readonly feesPaid: bigint;
  readonly updatedAt: number;
}

/**
 * What a one-cancels-other pair placed with a client order id keeps besides its limit order (which
 * carries the id): the stop order's id and parameters, and once that order is freed, how it ended.
 */
export interface OcoRetry {
  readonly stopOrderId: number;
  /** Units. */
  readonly stopPrice: number;
  /** Units; undefined for a stop-market. */
  readonly stopLimitPrice: number | undefined;
  freed: FreedStop | undefined;
}

/** An order's price (units; 0 for market orders) and quantity as placed. */
export interface PlacedAs {
  readonly price: number;
  readonly quantity: number;
}

export class Account {
  /** Newest open order first. */
  private openHead: OrderRef = NO_ORDER;
  /** Oldest retained closed order; the queue continues through NEXT to closedTail. */
  private closedHead: OrderRef = NO_ORDER;
  private closedTail: OrderRef = NO_ORDER;
  private closedCount = 0;
  /** Created on first use: most users never send client order ids. */
  private clientOrderIds: Map<string, OrderRef> | undefined = undefined;
  /** The placement trades of orders with a client order id that traded on arrival. */
  private placementTrades: Map<string, readonly TradeView[]> | undefined = undefined;
  /** The price and quantity amended orders with a client order id were placed with: what a retry is compared with. */
  private placedAs: Map<string, PlacedAs> | undefined = undefined;
  /** The pairs with a client order id, by it; and the same by their stop order's id. */
  private ocoRetries: Map<string, OcoRetry> | undefined = undefined;
  private keyedStops: Map<number, OcoRetry> | undefined = undefined;
  /** Request ids of the latest deposits that had one, oldest first (a Map keeps insertion order). */
  private depositRequests: Map<string, DepositRecord> | undefined = undefined;

  constructor(
    readonly userId: string,
    /** Position in the engine's account list: what orders record, and the row of the balance table. */
    readonly index: number,
    private retainClosed: number,
  ) {}

  /** A new retention bound (a configure command): a lower one forgets the oldest closed orders and deposit request ids beyond it now. */
  setRetention(retainClosed: number, store: OrderStore, index: OrderIndex): void {
    this.retainClosed = retainClosed;
    this.evictBeyondRetention(store, index);
    if (this.depositRequests !== undefined) forgetOldestBeyond(this.depositRequests, retainClosed);
  }

  /** The retained order with this client order id, or NO_ORDER. */
  orderByClientOrderId(clientOrderId: string): OrderRef {
    return this.clientOrderIds?.get(clientOrderId) ?? NO_ORDER;
  }

  /** Keeps what `order` traded when placed, for as long as its client order id is retained. */
  keepPlacementTrades(clientOrderId: string, order: OrderRef, trades: readonly TradeView[]): void {
    if (this.clientOrderIds?.get(clientOrderId) === order) (this.placementTrades ??= new Map()).set(clientOrderId, trades);
  }

  placementTradesOf(clientOrderId: string): readonly TradeView[] {
    return this.placementTrades?.get(clientOrderId) ?? [];
  }

  /** Every kept placement's trades, by client order id. */
  allPlacementTrades(): [string, readonly TradeView[]][] {
    return this.placementTrades === undefined ? [] : [...this.placementTrades];
  }

  /** Before its first amendment: remembers what the order with this client order id was placed with. */
  keepPlacedAs(clientOrderId: string, order: OrderRef, placed: PlacedAs): void {
    if (this.clientOrderIds?.get(clientOrderId) !== order || this.placedAs?.has(clientOrderId) === true) return;
    (this.placedAs ??= new Map()).set(clientOrderId, placed);
  }

  /** What the order with this client order id was placed with, if it has been amended since. */
  placedAsOf(clientOrderId: string): PlacedAs | undefined {
    return this.placedAs?.get(clientOrderId);
  }

  /** Every amended order's placement, by client order id. */
  allPlacedAs(): [string, PlacedAs][] {
    return this.placedAs === undefined ? [] : [...this.placedAs];
  }

  /** Marks the order just given this client order id as a pair's limit order, with its stop order. */
  keepOcoRetry(clientOrderId: string, retry: OcoRetry): void {
    (this.ocoRetries ??= new Map()).set(clientOrderId, retry);
    if (retry.freed === undefined) (this.keyedStops ??= new Map()).set(retry.stopOrderId, retry);
  }

  hasOcoRetries(): boolean {
    return (this.ocoRetries?.size ?? 0) > 0;
  }

  /** The pair whose limit order has this client order id, if it is one. */
  ocoRetryOf(clientOrderId: string): OcoRetry | undefined {
    return this.ocoRetries?.get(clientOrderId);
  }

  /** Every keyed pair, by client order id. */
  allOcoRetries(): [string, OcoRetry][] {
    return this.ocoRetries === undefined ? [] : [...this.ocoRetries];
  }

  depositRequest(requestId: string): DepositRecord | undefined {
    return this.depositRequests?.get(requestId);
  }

  /** Remembers a deposit's request id; past the bound the oldest is forgotten. */
  rememberDeposit(requestId: string, deposit: DepositRecord): void {
    const requests = (this.depositRequests ??= new Map());
    requests.set(requestId, deposit);
    forgetOldestBeyond(requests, this.retainClosed);
  }

  /** Whether any placement trades, placement or deposit request id is kept (what a snapshot copies). */
  hasRetryState(): boolean {
    return (this.placementTrades?.size ?? 0) + (this.placedAs?.size ?? 0) + (this.depositRequests?.size ?? 0) > 0;
  }

  /** Remembered deposits, oldest first. */
  allDepositRequests(): [string, DepositRecord][] {
    return this.depositRequests === undefined ? [] : [...this.depositRequests];
  }

  addOpen(store: OrderStore, order: OrderRef): void {
    store.setUserNext(order, this.openHead);
    store.setUserPrev(order, NO_ORDER);
    if (this.openHead !== NO_ORDER) store.setUserPrev(this.openHead, order);
    this.openHead = order;
    this.rememberClientOrderId(store, order);
  }

  /** Moves a just-closed order from open to closed; what the retention limit evicts is forgotten. */
  close(store: OrderStore, index: OrderIndex, order: OrderRef): void {
    const prev = store.userPrev(order);
    const next = store.userNext(order);
    if (prev === NO_ORDER) this.openHead = next;
    else store.setUserNext(prev, next);
    if (next !== NO_ORDER) store.setUserPrev(next, prev);
    this.retain(store, index, order);
  }

  /** Appends a closed order to the queue (also used by restore, in closing order). */
  retain(store: OrderStore, index: OrderIndex, order: OrderRef): void {
    this.rememberClientOrderId(store, order);
    store.setNext(order, NO_ORDER);
    if (this.closedTail === NO_ORDER) this.closedHead = order;
    else store.setNext(this.closedTail, order);
    this.closedTail = order;
    this.closedCount++;
    this.evictBeyondRetention(store, index);
  }

  /** Forgets the oldest retained closed orders beyond the bound, with what their client order ids kept. */
  private evictBeyondRetention(store: OrderStore, index: OrderIndex): void {
    while (this.closedCount > this.retainClosed) {
      const oldest = this.closedHead;
      this.closedHead = store.next(oldest);
      if (this.closedHead === NO_ORDER) this.closedTail = NO_ORDER;
      this.closedCount--;
      const clientOrderId = store.clientOrderId(oldest);
      if (clientOrderId !== undefined) {
        this.clientOrderIds!.delete(clientOrderId);
        this.placementTrades?.delete(clientOrderId);
        this.placedAs?.delete(clientOrderId);
        const pair = this.ocoRetries?.get(clientOrderId);
        if (pair !== undefined) {
          this.ocoRetries!.delete(clientOrderId);
          this.keyedStops?.delete(pair.stopOrderId);
        }
      } else if (this.keyedStops !== undefined) {
        const pair = this.keyedStops.get(store.id(oldest));
        if (pair !== undefined) {
          pair.freed = {
            price: store.price(oldest), quantity: store.quantity(oldest), filled: store.filled(oldest), status: store.status(oldest),
            cancelReason: store.cancelReason(oldest), feesPaid: store.feesPaid(oldest), updatedAt: store.updatedAt(oldest),
          };
          this.keyedStops.delete(pair.stopOrderId);
        }
      }
      index.remove(store.id(oldest));
      store.release(oldest);
    }
  }

  private rememberClientOrderId(store: OrderStore, order: OrderRef): void {
    const clientOrderId = store.clientOrderId(order);
    if (clientOrderId !== undefined) (this.clientOrderIds ??= new Map()).set(clientOrderId, order);
  }

  /** The oldest retained closed order (NO_ORDER if none); the others follow through the store's next(). */
  oldestClosed(): OrderRef {
    return this.closedHead;
  }

  retainedClosedCount(): number {
    return this.closedCount;
  }

  /** Open orders, newest first. */
  openOrders(store: OrderStore): OrderRef[] {
    const orders: OrderRef[] = [];
    for (let o = this.openHead; o !== NO_ORDER; o = store.userNext(o)) orders.push(o);
    return orders;
  }

  /** Retained closed orders, oldest closed first. */
  closedOrders(store: OrderStore): OrderRef[] {
    const orders: OrderRef[] = [];
    for (let o = this.closedHead; o !== NO_ORDER; o = store.next(o)) orders.push(o);
    return orders;
  }
}
