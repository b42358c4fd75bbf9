import * as grpc from '@grpc/grpc-js';
import { auth } from '@orderbook/proto';
import type { Logger } from '@orderbook/server-kit';
import type { AuthChannel } from './auth-channel';

/** The auth service sends WatchRevocations watchers an empty message this often. */
export const REVOCATION_HEARTBEAT_MS = 5000;

export interface RevocationWatcherOptions {
  /** host:port of the auth service. */
  readonly authAddress: string;
  /** No message for this long means the feed is down even if the stream looks open. Default 3 heartbeats. */
  readonly staleAfterMs?: number;
  /** First wait before reconnecting; doubles up to reconnectMaxMs. Defaults 250 and 5000. */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Told of each batch of revoked sessions as it arrives. */
  readonly onRevoked?: (sessionIds: readonly string[]) => void;
  /** Told when the feed goes up or down. */
  readonly onStateChange?: (up: boolean) => void;
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** How to dial the auth service (TLS credentials and their channel options); plaintext when absent. */
  readonly channel?: AuthChannel;
}

/** Whether the feed is live now, and how far it is known to be complete when it is not. */
export interface FeedState {
  readonly up: boolean;
  /** When the last message arrived (0 for never): every revocation before it is known. */
  readonly completeUntilMs: number;
}

/**
 * Follows the auth service's WatchRevocations stream: keeps the revoked sessions whose tokens may
 * still be presented, reconnects with backoff when the stream ends, and resumes from the last
 * cursor so that nothing is missed across a reconnect (or a different auth instance).
 */
export class RevocationWatcher {
  private readonly client: auth.AuthServiceClient;
  private readonly revoked = new Map<string, number>();
  private cursor = 0n;
  private call: grpc.ClientReadableStream<auth.WatchRevocationsResponse> | undefined;
  private lastMessageMs = 0;
  private connected = false;
  private reportedUp = false;
  private backoffMs: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly staleTimer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: RevocationWatcherOptions) {
    this.backoffMs = options.reconnectMinMs ?? 250;
    this.client = new auth.AuthServiceClient(options.authAddress, options.channel?.credentials ?? grpc.credentials.createInsecure(), {
      ...options.channel?.options,
      // grpc-js backs off up to 2 minutes between reconnects; revocations must flow soon after auth comes back.
      'grpc.max_reconnect_backoff_ms': options.reconnectMaxMs ?? 5000,
    });
    // A stream can look open while its connection is dead: no heartbeat for a while means down.
    this.staleTimer = setInterval(() => this.report(), Math.min(1000, this.staleAfterMs()));
    this.staleTimer.unref();
    this.connect();
  }

  isRevoked(sessionId: string): boolean {
    return this.revoked.has(sessionId);
  }

  state(nowMs = Date.now()): FeedState {
    return { up: this.isUp(nowMs), completeUntilMs: this.lastMessageMs };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.staleTimer);
    this.call?.cancel();
    this.client.close();
  }

  private staleAfterMs(): number {
    return this.options.staleAfterMs ?? 3 * REVOCATION_HEARTBEAT_MS;
  }

  private isUp(nowMs: number): boolean {
    return this.connected && nowMs - this.lastMessageMs < this.staleAfterMs();
  }

  private connect(): void {
    if (this.closed) return;
    const call = this.client.watchRevocations({ afterCursor: this.cursor });
    this.call = call;
    call.on('data', (message: auth.WatchRevocationsResponse) => this.receive(message));
    call.on('error', () => undefined);
    call.on('status', (status: grpc.StatusObject) => {
      if (this.call !== call) return;
      this.call = undefined;
      this.connected = false;
      this.report();
      if (this.closed) return;
      const level = status.code === grpc.status.UNIMPLEMENTED ? 'error' : 'warn';
      this.options.logger?.[level]({ code: grpc.status[status.code], details: status.details, retryInMs: this.backoffMs }, 'revocation feed ended: reconnecting');
      this.reconnectTimer = setTimeout(() => this.connect(), this.backoffMs);
      this.reconnectTimer.unref();
      this.backoffMs = Math.min(this.backoffMs * 2, this.options.reconnectMaxMs ?? 5000);
    });
  }

  private receive(message: auth.WatchRevocationsResponse): void {
    const nowMs = Date.now();
    this.lastMessageMs = nowMs;
    this.connected = true;
    this.backoffMs = this.options.reconnectMinMs ?? 250;
    if (message.cursor > this.cursor) this.cursor = message.cursor;
    const fresh = message.revoked.filter((event) => Number(event.relevantUntilUnixMs) > nowMs);
    for (const event of fresh) this.revoked.set(event.sessionId, Number(event.relevantUntilUnixMs));
    for (const [sessionId, relevantUntilMs] of this.revoked) if (relevantUntilMs <= nowMs) this.revoked.delete(sessionId);
    if (fresh.length > 0) this.options.onRevoked?.(fresh.map((event) => event.sessionId));
    this.report();
  }

  private report(): void {
    const up = this.isUp(Date.now());
    if (up === this.reportedUp) return;
    this.reportedUp = up;
    this.options.logger?.[up ? 'info' : 'warn']({ authAddress: this.options.authAddress }, up ? 'revocation feed up' : 'revocation feed down');
    this.options.onStateChange?.(up);
  }
}
