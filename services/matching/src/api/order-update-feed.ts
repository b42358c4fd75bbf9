import type { OrderView, TradeView } from '@orderbook/engine';
import { matching } from '@orderbook/proto';
import { encodeMessage, type EncodedMessage } from './encoded-responses';
import type { StreamLimits } from './stream-limits';
import type { Subscriber } from './subscriber';
import { tooSlow } from './trade-feed';
import { orderToProto, ownTradeToProto } from './views';

interface OrderSubscriber {
  readonly out: Subscriber;
  /** Only this market's orders; undefined for all. */
  readonly market: string | undefined;
}

/**
 * Changes to each user's orders for StreamOrderUpdates: a user's own streams only, few by nature,
 * so each change is written at once (encoded once for all of that user's streams). A subscriber
 * that leaves `bound` changes untaken, or finds the service's stream budget spent, is ended with
 * RESOURCE_EXHAUSTED: an order update is never dropped silently.
 */
export class OrderUpdateFeed {
  private readonly byUser = new Map<string, Set<OrderSubscriber>>();

  constructor(
    private readonly limits: StreamLimits,
    private readonly bound: number,
    private readonly onTooSlow: () => void,
  ) {}

  add(userId: string, subscriber: OrderSubscriber): void {
    let set = this.byUser.get(userId);
    if (set === undefined) this.byUser.set(userId, (set = new Set()));
    const subscribers = set;
    subscribers.add(subscriber);
    subscriber.out.onFinish(() => {
      subscribers.delete(subscriber);
      if (subscribers.size === 0 && this.byUser.get(userId) === subscribers) this.byUser.delete(userId);
    });
  }

  publish(order: OrderView, trade: TradeView | undefined): void {
    const subscribers = this.byUser.get(order.userId);
    if (subscribers === undefined) return;
    let message: EncodedMessage | undefined;
    for (const subscriber of [...subscribers]) {
      if (subscriber.market !== undefined && subscriber.market !== order.market) continue;
      if (subscriber.out.outstanding >= this.bound || !this.limits.hasRoom()) {
        this.onTooSlow();
        subscriber.out.fail(tooSlow(this.bound, 'order updates'));
        continue;
      }
      message ??= encodeMessage(matching.StreamOrderUpdatesResponse, {
        order: orderToProto(order),
        trade: trade === undefined ? undefined : ownTradeToProto(trade, order),
      });
      subscriber.out.write(message);
    }
  }
}
