import type { DeliveryScheduler, Deliverable } from './delivery-scheduler';
import type { EncodedMessage } from './encoded-responses';
import type { StreamLimits } from './stream-limits';
import type { Subscriber } from './subscriber';

/** A subscriber of a feed and how far it has got: the seq of the last message it was given. */
export interface FeedSubscriber {
  readonly out: Subscriber;
  position: number;
}

/**
 * Messages of one topic (a market's book changes, or its trades), each numbered one more than the
 * last and encoded once, and the subscribers reading them. The newest `capacity` messages are kept
 * for subscribers that are behind; publish() only stores and wakes the scheduler, which later has
 * serve() called for every idle subscriber that is behind. What a subscriber that is behind by
 * more than the feed keeps gets is the subclass's rule: the book conflates, trades are cut.
 */
export abstract class SequencedFeed<S extends FeedSubscriber> implements Deliverable {
  private readonly ring: Array<EncodedMessage | undefined>;
  /** performance.now() when each message in the ring was published. */
  private readonly times: Float64Array;
  /** Seq of the newest message published (0 before any). */
  protected head = 0;
  /** Seq of the oldest message still held. */
  private oldest = 1;
  private readonly subscribers = new Set<S>();
  private pass: S[] = [];
  private passIndex = 0;

  constructor(
    private readonly scheduler: DeliveryScheduler,
    protected readonly limits: StreamLimits,
    private readonly capacity: number,
  ) {
    this.ring = new Array<EncodedMessage | undefined>(capacity);
    this.times = new Float64Array(capacity);
  }

  get hasSubscribers(): boolean {
    return this.subscribers.size > 0;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  get headSeq(): number {
    return this.head;
  }

  /** Stores message seq (which must be head + 1, or anything for the first one) and schedules delivery. */
  protected store(seq: number, message: EncodedMessage): void {
    if (this.head === 0 || seq !== this.head + 1) this.oldest = seq;
    this.head = seq;
    this.ring[seq % this.capacity] = message;
    this.times[seq % this.capacity] = performance.now();
    this.oldest = Math.max(this.oldest, seq - this.capacity + 1);
    this.scheduler.wake(this);
  }

  add(subscriber: S): void {
    this.subscribers.add(subscriber);
    subscriber.out.onIdle(() => {
      if (subscriber.position < this.head) this.scheduler.wake(this);
    });
    subscriber.out.onFinish(() => this.subscribers.delete(subscriber));
  }

  beginPass(): void {
    this.pass = [...this.subscribers];
    this.passIndex = 0;
    this.passStarted();
  }

  deliverNext(): boolean {
    const subscriber = this.pass[this.passIndex++];
    if (subscriber === undefined) {
      this.pass = [];
      return false;
    }
    const { out } = subscriber;
    // A subscriber with messages outstanding is served again once it has taken them (onIdle).
    if (!out.isFinished && out.isIdle && subscriber.position < this.head && this.limits.hasRoom()) this.serve(subscriber);
    return true;
  }

  /** Called at the start of each delivery pass (e.g. to forget what the last pass cached). */
  protected passStarted(): void {}

  protected abstract serve(subscriber: S): void;

  /** When message seq was published; -Infinity when it is no longer held (or not yet published). */
  protected publishedAt(seq: number): number {
    return seq >= this.oldest && seq <= this.head ? (this.times[seq % this.capacity] ?? -Infinity) : -Infinity;
  }

  /**
   * The messages after seq `after`, at most `max` of them, or undefined when the oldest of them is
   * no longer held (the subscriber is behind by more than the feed keeps).
   */
  protected messagesAfter(after: number, max: number): EncodedMessage[] | undefined {
    if (after + 1 < this.oldest) return undefined;
    const messages: EncodedMessage[] = [];
    for (let seq = after + 1; seq <= this.head && messages.length < max; seq++) {
      const message = this.ring[seq % this.capacity];
      if (message === undefined) return undefined;
      messages.push(message);
    }
    return messages;
  }
}
