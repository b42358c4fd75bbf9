import type { ServiceError } from '@grpc/grpc-js';

/**
 * Streams that never end on their own (market data, order updates, order sessions). At shutdown
 * they are told to finish, with the status to end with, so that the server's graceful stop waits
 * only for real work and not for the grace period to run out on idle subscribers.
 */
export class LiveCalls {
  private readonly closers = new Set<(reason: ServiceError) => void>();
  private closedWith: ServiceError | undefined;

  /**
   * Registers a call's closer; returns the function that unregisters it (when the call ends by
   * itself). A call registered after shutdown began is closed at once.
   */
  register(close: (reason: ServiceError) => void): () => void {
    if (this.closedWith !== undefined) {
      close(this.closedWith);
      return () => undefined;
    }
    this.closers.add(close);
    return () => this.closers.delete(close);
  }

  closeAll(reason: ServiceError): void {
    this.closedWith ??= reason;
    for (const close of [...this.closers]) close(reason);
    this.closers.clear();
  }
}
