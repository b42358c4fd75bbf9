/** One configured market: its symbol, its assets' indexes (rows of the balance table), and its book. */
import type { MarketConfig } from './api';
import { OrderBook } from './book';
import type { OrderStore } from './order-store';
import { StopQueue } from './stops';

export class Market {
  readonly symbol: string;
  readonly book: OrderBook;
  /** Its stop orders waiting for their trigger. */
  readonly stops: StopQueue;

  constructor(
    readonly config: MarketConfig,
    /** Position in the engine's market list (what orders record). */
    readonly index: number,
    /** Indexes of the base and quote assets among the engine's assets. */
    readonly baseIndex: number,
    readonly quoteIndex: number,
    store: OrderStore,
  ) {
    this.symbol = config.symbol;
    this.book = new OrderBook(config.symbol, store);
    this.stops = new StopQueue(store);
  }
}
