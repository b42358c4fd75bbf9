import { status } from '@grpc/grpc-js';
import type { TradeView } from '@orderbook/engine';
import { matching } from '@orderbook/proto';
import { grpcError } from '@orderbook/server-kit';
import type { DeliveryScheduler } from './delivery-scheduler';
import { encodeMessage } from './encoded-responses';
import { SequencedFeed, type FeedSubscriber } from './sequenced-feed';
import type { StreamLimits } from './stream-limits';
import { tradeToProto } from './views';

/** Messages written to one subscriber per delivery pass: what it may hold unread at a time. */
const TRADES_PER_DELIVERY = 64;

/**
 * One market's trades for StreamTrades. Every trade matters to a trades reader, so nothing is
 * conflated: a subscriber that falls more than `bound` trades behind is ended with
 * RESOURCE_EXHAUSTED (reason STREAM_CONSUMER_TOO_SLOW) and may resubscribe.
 */
export class TradeFeed extends SequencedFeed<FeedSubscriber> {
  private published = 0;

  constructor(
    scheduler: DeliveryScheduler,
    limits: StreamLimits,
    private readonly bound: number,
    private readonly onTooSlow: () => void,
  ) {
    super(scheduler, limits, bound);
  }

  publish(trade: TradeView): void {
    if (!this.hasSubscribers) return;
    this.published += 1;
    this.store(this.published, encodeMessage(matching.StreamTradesResponse, { trade: tradeToProto(trade) }));
  }

  protected serve(subscriber: FeedSubscriber): void {
    const messages = this.messagesAfter(subscriber.position, TRADES_PER_DELIVERY);
    if (messages === undefined) {
      this.onTooSlow();
      subscriber.out.fail(tooSlow(this.bound, 'trades'));
      return;
    }
    for (const message of messages) subscriber.out.write(message);
    subscriber.position += messages.length;
  }
}

export function tooSlow(bound: number, what: string): ReturnType<typeof grpcError> {
  return grpcError(status.RESOURCE_EXHAUSTED, `stream consumer too slow: more than ${bound} ${what} behind (MATCHING_STREAM_BUFFER)`, {
    reason: 'STREAM_CONSUMER_TOO_SLOW',
    metadata: { bound: String(bound) },
    retryDelayMs: 0,
  });
}
