import { matching } from '@orderbook/proto';

/** Tracked ids past which the closed ones are dropped; then again at twice what remains. */
const FIRST_PRUNE = 1024;
/** What an order may be in while it can still be cancelled: a waiting stop too. */
const OPEN_STATUSES: ReadonlySet<matching.OrderStatus> = new Set([
  matching.OrderStatus.ORDER_STATUS_OPEN,
  matching.OrderStatus.ORDER_STATUS_PARTIALLY_FILLED,
  matching.OrderStatus.ORDER_STATUS_UNTRIGGERED,
]);

/**
 * The orders an order session with cancel-on-disconnect placed that may still be open: what it
 * cancels when it ends. Orders that close meanwhile (filled, cancelled) are dropped now and then,
 * so the set stays about the size of the session's open orders however long it runs.
 */
export class SessionOrders {
  private readonly ids = new Set<number>();
  private pruneAt = FIRST_PRUNE;

  constructor(private readonly isOpen: (orderId: number) => boolean) {}

  /** Records the orders a command of the session placed (a stop order, a pair's two) that are open. */
  placed(response: matching.OrderSessionResponse): void {
    const orders = [response.placeLimitOrder?.order, response.placeMarketOrder?.order, response.placeOcoOrder?.order, response.placeOcoOrder?.stopOrder];
    for (const order of orders) if (order !== undefined && OPEN_STATUSES.has(order.status)) this.ids.add(Number(order.orderId));
    if (this.ids.size < this.pruneAt) return;
    for (const id of this.ids) if (!this.isOpen(id)) this.ids.delete(id);
    this.pruneAt = Math.max(FIRST_PRUNE, 2 * this.ids.size);
  }

  /** The ids still open now, oldest first. */
  open(): number[] {
    return [...this.ids].filter(this.isOpen).sort((a, b) => a - b);
  }
}
