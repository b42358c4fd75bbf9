import { matching } from '@orderbook/proto';
import type { EngineEvent, EngineQueries } from '@orderbook/engine';
import type { DeliveryScheduler } from './delivery-scheduler';
import { encodeMessage, type EncodedMessage } from './encoded-responses';
import { SequencedFeed, type FeedSubscriber } from './sequenced-feed';
import type { StreamLimits } from './stream-limits';
import { depthToProto, levelUpdateToProto } from './views';

export type BookLevelEvent = Extract<EngineEvent, { type: 'bookLevel' }>;

export interface BookSubscriber extends FeedSubscriber {
  /** Depth of its snapshots. */
  readonly depth: number;
}

/** Book changes kept for readers that are behind; one further behind gets a snapshot. */
export const BOOK_UPDATES_KEPT = 1024;
/**
 * A reader whose oldest missed change is older than this gets a snapshot instead of the changes:
 * one message, whatever it missed, so that every reader stays within about this of the head
 * (plus its own reading time).
 */
export const CONFLATE_AFTER_MS = 500;
/**
 * Changes written per delivery pass over all of a market's readers: each reader may be sent up to
 * this divided by the number of readers (at least MIN_UPDATES_PER_READER) one by one, and gets a
 * snapshot when it is further behind. One reader gets a burst of changes one by one; thousands get
 * one shared snapshot each, so the work of a pass grows with the readers, not with readers × changes.
 */
export const PASS_UPDATE_BUDGET = 4096;
export const MIN_UPDATES_PER_READER = 8;

/**
 * One market's book changes for StreamOrderBook. A subscriber that keeps up gets every level
 * change; one that falls CONFLATE_AFTER_MS (or its share of PASS_UPDATE_BUDGET) behind is conflated: it gets one fresh snapshot
 * of the book at its depth (conflated = true, sequence jumping to the snapshot's), then changes
 * again. Snapshots are encoded once per delivery pass and depth, shared by every subscriber
 * conflated in that pass. It never queues without end and never cuts a slow reader.
 */
export class BookFeed extends SequencedFeed<BookSubscriber> {
  private readonly snapshots = new Map<number, { readonly seq: number; readonly message: EncodedMessage }>();

  constructor(
    scheduler: DeliveryScheduler,
    limits: StreamLimits,
    private readonly market: string,
    private readonly queries: EngineQueries,
    private readonly onConflated: () => void,
  ) {
    super(scheduler, limits, BOOK_UPDATES_KEPT);
  }

  publish(level: BookLevelEvent): void {
    // Nobody to tell: a new subscriber starts from a snapshot anyway.
    if (!this.hasSubscribers) return;
    const message = encodeMessage(matching.StreamOrderBookResponse, {
      market: this.market,
      sequence: BigInt(level.bookSeq),
      update: levelUpdateToProto(level),
      conflated: false,
    });
    this.store(level.bookSeq, message);
  }

  /**
   * The first message of a new subscriber: a snapshot of the current book (which may be ahead
   * of the changes delivered so far, as reads are: changes up to its sequence are skipped).
   */
  snapshot(depth: number, conflated: boolean): { readonly seq: number; readonly message: EncodedMessage } {
    const book = this.queries.depth(this.market, depth);
    if (book === undefined) throw new Error(`the engine has no book for configured market ${this.market}`);
    const message = encodeMessage(matching.StreamOrderBookResponse, {
      market: this.market,
      sequence: BigInt(book.bookSeq),
      snapshot: depthToProto(book),
      conflated,
    });
    return { seq: book.bookSeq, message };
  }

  protected override passStarted(): void {
    this.snapshots.clear();
  }

  protected serve(subscriber: BookSubscriber): void {
    const most = Math.max(MIN_UPDATES_PER_READER, Math.floor(PASS_UPDATE_BUDGET / this.subscriberCount));
    const recent = this.publishedAt(subscriber.position + 1) >= performance.now() - CONFLATE_AFTER_MS;
    const updates = recent && this.head - subscriber.position <= most ? this.messagesAfter(subscriber.position, most) : undefined;
    if (updates !== undefined && subscriber.position + updates.length === this.head) {
      for (const message of updates) subscriber.out.write(message);
      subscriber.position = this.head;
      return;
    }
    let snapshot = this.snapshots.get(subscriber.depth);
    if (snapshot === undefined) {
      snapshot = this.snapshot(subscriber.depth, true);
      this.snapshots.set(subscriber.depth, snapshot);
    }
    this.onConflated();
    subscriber.out.write(snapshot.message);
    subscriber.position = snapshot.seq;
  }
}
