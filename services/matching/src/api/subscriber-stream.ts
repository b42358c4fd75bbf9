import { status, type ServerWritableStream, type ServiceError } from '@grpc/grpc-js';
import { grpcError } from '@orderbook/server-kit';

/**
 * One subscriber's outgoing messages with a bounded buffer. Messages go straight to the call
 * while it accepts them; once call.write() says the transport is full (the client reads slower
 * than we produce), they wait here until 'drain'. A subscriber that falls `capacity` messages
 * behind is ended with RESOURCE_EXHAUSTED and its backlog dropped, so one slow client costs a
 * bounded amount of memory and never slows the engine or other subscribers.
 *
 * HTTP/2 delivers the status after the messages already handed to the transport, so the client
 * sees RESOURCE_EXHAUSTED once it reads those.
 */
export class SubscriberStream<T> {
  private backlog: T[] = [];
  private transportFull = false;
  private finished = false;
  private readonly cleanups: Array<() => void> = [];

  constructor(
    private readonly call: ServerWritableStream<unknown, T>,
    private readonly capacity: number,
    private readonly onOverflow: () => void,
  ) {
    call.on('drain', () => this.drain());
    call.on('cancelled', () => this.finish());
  }

  /** Runs cleanup when the stream finishes (ended, failed or cancelled by the client); at once if it already has. */
  onFinish(cleanup: () => void): void {
    if (this.finished) cleanup();
    else this.cleanups.push(cleanup);
  }

  send(message: T): void {
    if (this.finished) return;
    if (!this.transportFull) {
      this.transportFull = !this.call.write(message);
      return;
    }
    if (this.backlog.length >= this.capacity) {
      this.onOverflow();
      this.fail(grpcError(status.RESOURCE_EXHAUSTED, `stream consumer too slow: more than ${this.capacity} messages behind`));
      return;
    }
    this.backlog.push(message);
  }

  /** Ends the stream with an error status (after what the transport already holds). */
  fail(error: ServiceError): void {
    if (this.finished) return;
    this.finish();
    this.call.emit('error', error);
  }

  private drain(): void {
    if (this.finished) return;
    this.transportFull = false;
    let sent = 0;
    while (!this.transportFull && sent < this.backlog.length) {
      this.transportFull = !this.call.write(this.backlog[sent]);
      sent++;
    }
    this.backlog = this.backlog.slice(sent);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.backlog = [];
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }
}
