import type { ServerWritableStream, ServiceError } from '@grpc/grpc-js';
import { writeEncoded, type EncodedMessage } from './encoded-responses';
import { MESSAGE_OVERHEAD_BYTES, type StreamLimits } from './stream-limits';

/**
 * One stream's outgoing side. Every message is written at once and counted, per subscriber and
 * against the service's budget (StreamLimits), until grpc-js reports it handed to the transport;
 * a client that does not read keeps its messages counted. Feeds write only to an idle subscriber
 * (nothing outstanding), so a slow or stalled client holds at most one delivery's worth of
 * messages: what it misses meanwhile is conflated or ends its stream (see the feeds).
 */
export class Subscriber {
  private outstandingMessages = 0;
  private outstandingBytes = 0;
  private finished = false;
  private readonly cleanups: Array<() => void> = [];
  private readonly idleListeners: Array<() => void> = [];

  constructor(
    private readonly call: ServerWritableStream<unknown, unknown>,
    private readonly limits: StreamLimits,
  ) {
    call.on('cancelled', () => this.finish());
    call.on('finish', () => this.finish());
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** Nothing outstanding: the transport took everything written so far. */
  get isIdle(): boolean {
    return this.outstandingMessages === 0;
  }

  get outstanding(): number {
    return this.outstandingMessages;
  }

  write(message: EncodedMessage): void {
    if (this.finished) return;
    const cost = message.length + MESSAGE_OVERHEAD_BYTES;
    this.outstandingMessages += 1;
    this.outstandingBytes += cost;
    this.limits.reserve(cost);
    writeEncoded(this.call, message, () => this.taken(cost));
  }

  /** Called each time the subscriber becomes idle again. */
  onIdle(listener: () => void): void {
    this.idleListeners.push(listener);
  }

  /** Runs cleanup when the stream finishes (ended, failed or cancelled by the client); at once if it already has. */
  onFinish(cleanup: () => void): void {
    if (this.finished) cleanup();
    else this.cleanups.push(cleanup);
  }

  /** Ends the stream with an error status (delivered after what the transport already holds). */
  fail(error: ServiceError): void {
    if (this.finished) return;
    this.finish();
    this.call.emit('error', error);
  }

  private taken(cost: number): void {
    if (this.outstandingMessages === 0) return;
    this.outstandingMessages -= 1;
    this.outstandingBytes -= cost;
    this.limits.release(cost);
    if (this.outstandingMessages === 0 && !this.finished) for (const listener of this.idleListeners) listener();
  }

  /**
   * Stops delivery. A stream failed while the client still holds messages unread keeps them
   * counted until the transport lets go of them (grpc-js reports no write on a cancelled call):
   * the count is released when the call is cancelled or closed.
   */
  private finish(): void {
    if (!this.finished) {
      this.finished = true;
      for (const cleanup of this.cleanups.splice(0)) cleanup();
    }
    if (this.call.cancelled || this.call.writableFinished) this.releaseAll();
  }

  private releaseAll(): void {
    this.limits.release(this.outstandingBytes);
    this.outstandingBytes = 0;
    this.outstandingMessages = 0;
  }
}
