import { status } from '@grpc/grpc-js';
import { matching } from '@orderbook/proto';
import { OrderbookError, toOrderbookError } from './errors';
import { backoffDelayMs, type RetryClock, type RetryPolicy } from './retry';
import { BookSide, type BookLevel } from './book-levels';

export type { BookLevel } from './book-levels';

/** Why the book was last rebuilt from a snapshot. */
export type BookEvent = 'snapshot' | 'update' | 'conflated';

export interface LiveOrderBookOptions {
  /** Levels per side of the snapshots (1 to 1000, default 1000); later changes cover every level. */
  readonly depth?: number;
  /**
   * Called after each message is applied; the book reads the next one only once a returned
   * promise settles, so a slow handler makes a slow reader (which the service conflates).
   */
  readonly onChange?: (book: LiveOrderBook, event: BookEvent) => void | Promise<void>;
}

/** How often the book had to rebuild itself; each is counted once. */
export interface ResyncCounts {
  /** An update whose sequence was not the previous + 1: the book resubscribed. */
  gaps: number;
  /** A conflated snapshot (this reader fell behind) replaced the book. */
  conflations: number;
  /** The stream ended (the service restarted, a network fault, a stream limit): it resubscribed. */
  reconnects: number;
}

/** Codes after which another subscription cannot help (a wrong market, a missing method). */
const FATAL_CODES: ReadonlySet<status> = new Set([status.INVALID_ARGUMENT, status.NOT_FOUND, status.PERMISSION_DENIED, status.UNAUTHENTICATED, status.UNIMPLEMENTED, status.FAILED_PRECONDITION]);

/**
 * One market's order book kept current from StreamOrderBook: a snapshot, then level changes
 * applied in sequence. It rebuilds itself from a fresh snapshot whenever it cannot trust what it
 * holds: a conflated snapshot replaces it, a sequence gap or a broken stream makes it subscribe
 * again (with backoff and jitter while the service is away).
 */
export class LiveOrderBook {
  readonly resyncs: ResyncCounts = { gaps: 0, conflations: 0, reconnects: 0 };
  private readonly bids = new BookSide(true);
  private readonly asks = new BookSide(false);
  private seq: bigint | undefined;
  private call: ReturnType<matching.MatchingServiceClient['streamOrderBook']> | undefined;
  private closed = false;
  private failure: OrderbookError | undefined;
  private waiters: Array<() => boolean> = [];

  private constructor(
    private readonly client: matching.MatchingServiceClient,
    readonly market: string,
    private readonly depthLimit: number,
    private readonly onChange: LiveOrderBookOptions['onChange'],
    private readonly policy: RetryPolicy,
    private readonly clock: RetryClock,
  ) {}

  /** Subscribes and resolves once the first snapshot is in (rejects if the subscription is refused for good). */
  static async open(client: matching.MatchingServiceClient, market: string, options: LiveOrderBookOptions, policy: RetryPolicy, clock: RetryClock): Promise<LiveOrderBook> {
    const book = new LiveOrderBook(client, market, options.depth ?? 1000, options.onChange, policy, clock);
    void book.run();
    await book.until((b) => b.sequence !== undefined);
    return book;
  }

  /** The sequence of the last message applied; undefined before the first snapshot. */
  get sequence(): bigint | undefined {
    return this.seq;
  }

  /** Set when the book stopped for good (a refused subscription). */
  get error(): OrderbookError | undefined {
    return this.failure;
  }

  bestBid(): BookLevel | undefined {
    return this.bids.best();
  }

  bestAsk(): BookLevel | undefined {
    return this.asks.best();
  }

  /** The best `levels` levels of each side, best first. */
  depth(levels = 10): { readonly bids: readonly BookLevel[]; readonly asks: readonly BookLevel[] } {
    return { bids: this.bids.top(levels), asks: this.asks.top(levels) };
  }

  /** Resolves once `predicate` holds after some message (or at once); rejects if the book stops first. */
  until(predicate: (book: LiveOrderBook) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (this.failure !== undefined || this.closed) {
          reject(this.failure ?? new OrderbookError(status.CANCELLED, 'the book was closed'));
          return true;
        }
        if (!predicate(this)) return false;
        resolve();
        return true;
      };
      if (!check()) this.waiters.push(check);
    });
  }

  close(): void {
    this.closed = true;
    this.call?.cancel();
    this.wake();
  }

  private async run(): Promise<void> {
    for (let failures = 0; !this.closed; ) {
      const call = this.client.streamOrderBook({ market: this.market, depth: this.depthLimit });
      this.call = call;
      let ending: unknown;
      let gap = false;
      try {
        for await (const message of call as AsyncIterable<matching.StreamOrderBookResponse>) {
          failures = 0;
          const event = this.apply(message);
          this.wake();
          if (event === 'gap') {
            gap = true;
            break;
          }
          await this.onChange?.(this, event);
          if (this.closed) break;
        }
      } catch (err) {
        ending = toOrderbookError(err);
      }
      call.cancel();
      if (this.closed) return;
      // Refused for good, or never got a first snapshot within the retry policy's attempts.
      if (ending instanceof OrderbookError && (FATAL_CODES.has(ending.code) || (this.seq === undefined && failures + 1 >= this.policy.maxAttempts))) {
        this.failure = ending;
        this.wake();
        return;
      }
      // A gap resubscribes at once; an ended stream (even one ended cleanly) waits a little first.
      if (!gap) {
        this.resyncs.reconnects += 1;
        failures += 1;
        const hint = ending instanceof OrderbookError ? ending.retryDelayMs : undefined;
        await this.clock.sleep(backoffDelayMs(this.policy, Math.min(failures, 16), this.clock.random, hint));
      }
    }
  }

  /** Applies one message; 'gap' when it does not follow the book's sequence (nothing applied). */
  private apply(message: matching.StreamOrderBookResponse): BookEvent | 'gap' {
    if (message.snapshot !== undefined) {
      this.bids.replace(message.snapshot.bids);
      this.asks.replace(message.snapshot.asks);
      this.seq = message.sequence;
      if (!message.conflated) return 'snapshot';
      this.resyncs.conflations += 1;
      return 'conflated';
    }
    const update = message.update;
    if (update === undefined || this.seq === undefined || message.sequence !== this.seq + 1n) {
      this.resyncs.gaps += 1;
      return 'gap';
    }
    (update.side === matching.Side.SIDE_BUY ? this.bids : this.asks).apply(update);
    this.seq = message.sequence;
    return 'update';
  }

  private wake(): void {
    this.waiters = this.waiters.filter((check) => !check());
  }
}
