/**
 * Streams that never end on their own (market data, order updates, order sessions). At shutdown
 * they are told to finish, so that the server's graceful stop waits only for real work and not for
 * the grace period to run out on idle subscribers.
 */
export class LiveCalls {
  private readonly closers = new Set<() => void>();
  private closing = false;

  /**
   * Registers a call's closer; returns the function that unregisters it (when the call ends by
   * itself). A call registered after shutdown began is closed at once.
   */
  register(close: () => void): () => void {
    if (this.closing) {
      close();
      return () => undefined;
    }
    this.closers.add(close);
    return () => this.closers.delete(close);
  }

  closeAll(): void {
    this.closing = true;
    for (const close of [...this.closers]) close();
    this.closers.clear();
  }
}
