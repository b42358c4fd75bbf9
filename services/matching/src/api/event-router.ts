import type { EngineEvent, OrderView, TradeView } from '@orderbook/engine';

export type BookLevelEvent = Extract<EngineEvent, { type: 'bookLevel' }>;

/** One change to an order: acceptance, a fill (with its trade), a cancel or its final state. */
export interface OrderChange {
  readonly order: OrderView;
  readonly trade?: TradeView;
}

type Listener<T> = (value: T) => void;

/** Listeners by key (a market or a user), so that each event reaches only those who asked for it. */
class Topics<T> {
  private readonly listeners = new Map<string, Set<Listener<T>>>();

  add(key: string, listener: Listener<T>): () => void {
    let set = this.listeners.get(key);
    if (set === undefined) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(key) === set) this.listeners.delete(key);
    };
  }

  publish(key: string, value: T): void {
    const set = this.listeners.get(key);
    if (set !== undefined) for (const listener of [...set]) listener(value);
  }
}

/**
 * Fans the command loop's durable events out to stream subscribers: book level changes and
 * trades per market, order changes per owning user. Listeners run synchronously, in sequence
 * order, as the loop delivers each batch.
 */
export class EventRouter {
  private readonly bookLevels = new Topics<BookLevelEvent>();
  private readonly trades = new Topics<TradeView>();
  private readonly orderChanges = new Topics<OrderChange>();

  route(events: readonly EngineEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'bookLevel':
          this.bookLevels.publish(event.market, event);
          break;
        case 'trade':
          this.trades.publish(event.trade.market, event.trade);
          break;
        case 'orderAccepted':
          this.orderChanges.publish(event.order.userId, { order: event.order });
          break;
        case 'orderUpdated':
          this.orderChanges.publish(event.order.userId, event.trade === undefined ? { order: event.order } : { order: event.order, trade: event.trade });
          break;
        case 'balance':
          break;
      }
    }
  }

  onBookLevel(market: string, listener: Listener<BookLevelEvent>): () => void {
    return this.bookLevels.add(market, listener);
  }

  onTrade(market: string, listener: Listener<TradeView>): () => void {
    return this.trades.add(market, listener);
  }

  /** Changes to the orders of one user: whoever subscribes under a user id sees only that user's orders. */
  onOrderChange(userId: string, listener: Listener<OrderChange>): () => void {
    return this.orderChanges.add(userId, listener);
  }
}
