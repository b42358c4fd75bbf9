import type { Logger } from '@orderbook/server-kit';
import type { RevocationLog, RevocationRecord } from './storage/revocation-log';

/** One message to a watcher: revocations after its cursor (none in a heartbeat), and the cursor after them. */
export interface FeedMessage {
  readonly revoked: readonly RevocationRecord[];
  readonly cursor: number;
}

/** A WatchRevocations call as the feed sees it. */
export interface FeedWatcher {
  readonly peer: string;
  /** Sends a message; false when the watcher has stopped reading (too much unread): the feed then drops it. */
  send(message: FeedMessage): boolean;
  /** Ends the call: the reason why (shutting down, too slow). */
  end(reason: 'shutting-down' | 'too-slow'): void;
}

export interface RevocationFeedOptions {
  /** How often the log is polled for revocations made by other instances. */
  readonly pollIntervalMs: number;
  /** An empty message to every watcher this often, so that a watcher can tell a quiet feed from a dead one. */
  readonly heartbeatMs: number;
  readonly maxWatchers: number;
  readonly maxWatchersPerPeer: number;
  readonly logger: Pick<Logger, 'error' | 'warn'>;
}

/** At most this many revocations per message: a watcher starting from 0 gets the backlog in chunks. */
const MAX_PER_MESSAGE = 1000;

export type WatchRefusal = 'too-many-watchers' | 'too-many-watchers-from-peer';

/**
 * Serves WatchRevocations from this instance: keeps the revocations that still matter in memory
 * (loaded at start, then polled from the shared log, at once after a local revocation), sends
 * each watcher what follows its cursor, then every new revocation, and heartbeats in between.
 */
export class RevocationFeed {
  private events: RevocationRecord[] = [];
  private head = 0;
  private readonly watchers = new Set<FeedWatcher>();
  private pollTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private pollAgain = false;
  private closed = false;

  constructor(
    private readonly log: RevocationLog,
    private readonly options: RevocationFeedOptions,
  ) {}

  async start(): Promise<void> {
    await this.poll();
    this.pollTimer = setInterval(() => this.poke(), this.options.pollIntervalMs);
    this.pollTimer.unref();
    this.heartbeatTimer = setInterval(() => this.broadcast([]), this.options.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  /** Polls now (after this instance revoked something), or right after the poll under way. */
  poke(): void {
    if (this.polling !== undefined) {
      this.pollAgain = true;
      return;
    }
    this.polling = this.poll()
      .catch((err: unknown) => this.options.logger.error({ err }, 'polling the revocation log failed'))
      .finally(() => {
        this.polling = undefined;
        if (this.pollAgain && !this.closed) {
          this.pollAgain = false;
          this.poke();
        }
      });
  }

  /** Registers a watcher and sends it everything after its cursor; a refusal when the bounds are reached. */
  watch(watcher: FeedWatcher, afterCursor: number, nowMs = Date.now()): WatchRefusal | undefined {
    if (this.watchers.size >= this.options.maxWatchers) return 'too-many-watchers';
    const fromPeer = [...this.watchers].filter((other) => other.peer === watcher.peer).length;
    if (fromPeer >= this.options.maxWatchersPerPeer) return 'too-many-watchers-from-peer';
    this.watchers.add(watcher);
    const backlog = this.events.filter((event) => event.seq > afterCursor && event.relevantUntilMs > nowMs);
    for (let i = 0; i < backlog.length; i += MAX_PER_MESSAGE) {
      const chunk = backlog.slice(i, i + MAX_PER_MESSAGE);
      this.deliver(watcher, { revoked: chunk, cursor: chunk[chunk.length - 1]!.seq });
    }
    // The last message always carries the head: the watcher is live from here on.
    this.deliver(watcher, { revoked: [], cursor: Math.max(this.head, afterCursor) });
    return undefined;
  }

  unwatch(watcher: FeedWatcher): void {
    this.watchers.delete(watcher);
  }

  /** Ends every watch (they reconnect elsewhere with their cursor) and stops polling. */
  close(): void {
    this.closed = true;
    clearInterval(this.pollTimer);
    clearInterval(this.heartbeatTimer);
    for (const watcher of this.watchers) watcher.end('shutting-down');
    this.watchers.clear();
  }

  private async poll(nowMs = Date.now()): Promise<void> {
    const fresh = await this.log.after(this.head, nowMs);
    this.events = this.events.filter((event) => event.relevantUntilMs > nowMs);
    if (fresh.length === 0) return;
    this.events.push(...fresh);
    this.head = fresh[fresh.length - 1]!.seq;
    this.broadcast(fresh);
  }

  private broadcast(revoked: readonly RevocationRecord[]): void {
    for (const watcher of this.watchers) this.deliver(watcher, { revoked, cursor: this.head });
  }

  private deliver(watcher: FeedWatcher, message: FeedMessage): void {
    if (watcher.send(message)) return;
    this.options.logger.warn({ peer: watcher.peer }, 'revocation watcher stopped reading: dropped (it resumes from its cursor)');
    this.watchers.delete(watcher);
    watcher.end('too-slow');
  }
}
