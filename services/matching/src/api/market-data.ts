import type { EngineEvent, EngineQueries } from '@orderbook/engine';
import { BookFeed } from './book-feed';
import { DeliveryScheduler } from './delivery-scheduler';
import { OrderUpdateFeed } from './order-update-feed';
import type { StreamLimits } from './stream-limits';
import { TradeFeed } from './trade-feed';

export interface MarketDataOptions {
  readonly markets: readonly string[];
  readonly queries: EngineQueries;
  readonly limits: StreamLimits;
  /** Trades or order updates a subscriber may fall behind before it is cut off. */
  readonly streamBuffer: number;
  readonly onTooSlow: (stream: 'trades' | 'order_updates') => void;
  /** A book reader was sent a snapshot in place of the updates it missed. */
  readonly onConflated: () => void;
  readonly scheduler?: DeliveryScheduler;
}

/**
 * Fans the command loop's durable events out to stream subscribers: book changes and trades per
 * market (through the delivery scheduler, off the loop's path), order changes per owning user
 * (at once). route() runs on the loop's path: it encodes each event at most once and returns.
 */
export class MarketData {
  private readonly books = new Map<string, BookFeed>();
  private readonly trades = new Map<string, TradeFeed>();
  readonly orders: OrderUpdateFeed;
  private readonly scheduler: DeliveryScheduler;

  constructor(options: MarketDataOptions) {
    this.scheduler = options.scheduler ?? new DeliveryScheduler();
    for (const market of options.markets) {
      this.books.set(market, new BookFeed(this.scheduler, options.limits, market, options.queries, options.onConflated));
      this.trades.set(market, new TradeFeed(this.scheduler, options.limits, options.streamBuffer, () => options.onTooSlow('trades')));
    }
    this.orders = new OrderUpdateFeed(options.limits, options.streamBuffer, () => options.onTooSlow('order_updates'));
  }

  route(events: readonly EngineEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'bookLevel':
          this.books.get(event.market)?.publish(event);
          break;
        case 'trade':
          this.trades.get(event.trade.market)?.publish(event.trade);
          break;
        case 'orderAccepted':
          this.orders.publish(event.order, undefined);
          break;
        case 'orderUpdated':
          this.orders.publish(event.order, event.trade);
          break;
        case 'balance':
          break;
      }
    }
  }

  book(market: string): BookFeed {
    return feedOf(this.books, market);
  }

  tradesOf(market: string): TradeFeed {
    return feedOf(this.trades, market);
  }

  stop(): void {
    this.scheduler.stop();
  }
}

function feedOf<F>(feeds: ReadonlyMap<string, F>, market: string): F {
  const feed = feeds.get(market);
  if (feed === undefined) throw new Error(`no feed for configured market ${market}`);
  return feed;
}
