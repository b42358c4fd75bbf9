import { createHash } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { status as Code } from '@grpc/grpc-js';
import { callFailure, type CallFailure } from './upstreams';

/** One Server-Sent Event. */
export interface FeedEvent {
  readonly id?: string;
  /** `message` for a stream message; `error` and `end` close the stream; `resync` announces a fresh stream after a lost position. */
  readonly event: 'message' | 'error' | 'end' | 'resync';
  readonly data: string;
}

/** How a feed turns the upstream's messages and its end into events. */
export interface FeedCodec {
  /** The message's JSON text and its event id. */
  message(bytes: Buffer): { id: string; data: string };
  failure(failure: CallFailure): string;
}

type Listener = (event: FeedEvent) => void;

/**
 * One upstream server stream and its last events. A feed outlives its HTTP client for a while
 * (detached, still reading and buffering), so that the client reconnecting with Last-Event-ID
 * gets what it missed.
 */
export class EventFeed {
  /** Resolves when the service accepted the stream (headers or a message), or with why it refused. */
  readonly accepted: Promise<CallFailure | undefined>;
  private readonly recent: FeedEvent[] = [];
  private final: FeedEvent | undefined;
  private listener: Listener | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly key: string,
    private readonly call: grpc.ClientReadableStream<Buffer>,
    codec: FeedCodec,
    private readonly bufferSize: number,
    private readonly onClose: (feed: EventFeed) => void,
  ) {
    this.accepted = new Promise((resolve) => {
      call.once('metadata', () => resolve(undefined));
      call.on('data', (bytes: Buffer) => {
        resolve(undefined);
        this.emit({ event: 'message', ...codec.message(bytes) });
      });
      call.on('error', (err: grpc.ServiceError) => {
        const failure = callFailure(err);
        resolve(failure);
        if (failure.code !== Code.CANCELLED || !this.closed) this.finish({ event: 'error', data: codec.failure(failure) });
      });
      call.on('end', () => this.finish({ event: 'end', data: '{}' }));
    });
  }

  /** `accepted`, or DEADLINE_EXCEEDED when the service has not accepted the stream within ms (the feed is then closed). */
  async acceptedWithin(ms: number): Promise<CallFailure | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<CallFailure>((resolve) => {
      timer = setTimeout(() => resolve({ code: Code.DEADLINE_EXCEEDED, message: `the service did not accept the stream within ${ms / 1000} s (GATEWAY_CALL_TIMEOUT_SECONDS)` }), ms);
    });
    const answer = await Promise.race([this.accepted, late]);
    clearTimeout(timer);
    if (answer !== undefined) this.close();
    return answer;
  }

  /** Whether this feed still holds the event with the given id (so a client that saw it can resume here). */
  holds(lastEventId: string): boolean {
    return this.listener === undefined && !this.closed && this.recent.some((e) => e.id === lastEventId);
  }

  /** Delivers to listener: the events after lastEventId (when resuming), then every new one. */
  attach(listener: Listener, lastEventId?: string): void {
    clearTimeout(this.lingerTimer);
    this.listener = listener;
    if (lastEventId !== undefined) {
      const seen = this.recent.findIndex((e) => e.id === lastEventId);
      for (const event of this.recent.slice(seen + 1)) listener(event);
    }
    if (this.final !== undefined) {
      listener(this.final);
      this.close();
    }
  }

  /** The client went away: keep reading for resumeMs, then cancel the upstream stream. */
  detach(resumeMs: number): void {
    this.listener = undefined;
    if (this.closed) return;
    if (resumeMs === 0 || this.final !== undefined) this.close();
    else this.lingerTimer = setTimeout(() => this.close(), resumeMs);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.lingerTimer);
    this.call.cancel();
    this.onClose(this);
  }

  private emit(event: FeedEvent): void {
    this.recent.push(event);
    if (this.recent.length > this.bufferSize) this.recent.shift();
    this.listener?.(event);
  }

  private finish(event: FeedEvent): void {
    if (this.final !== undefined) return;
    this.final = event;
    if (this.listener !== undefined) {
      this.listener(event);
      this.close();
    }
  }
}

/** The open feeds, by what they stream (method, request and caller), for resuming. */
export class FeedDirectory {
  private readonly feeds = new Set<EventFeed>();

  static keyOf(grpcPath: string, request: Uint8Array, authorization: string | undefined): string {
    return createHash('sha256').update(grpcPath).update('\0').update(request).update('\0').update(authorization ?? '').digest('base64url');
  }

  add(feed: EventFeed): void {
    this.feeds.add(feed);
  }

  remove(feed: EventFeed): void {
    this.feeds.delete(feed);
  }

  /** A detached feed of the same stream that still holds the client's last event. */
  resumable(key: string, lastEventId: string): EventFeed | undefined {
    for (const feed of this.feeds) if (feed.key === key && feed.holds(lastEventId)) return feed;
    return undefined;
  }

  closeAll(): void {
    for (const feed of [...this.feeds]) feed.close();
  }
}
