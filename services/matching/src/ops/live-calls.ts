import type { ServiceError } from '@grpc/grpc-js';

type Closer = (reason: ServiceError) => void;

/**
 * Streams that never end on their own (market data, order updates, order sessions). At shutdown
 * they are told to finish, with the status to end with, so that the server's graceful stop waits
 * only for real work and not for the grace period to run out on idle subscribers. A stream opened
 * with an access token is also told to finish when its sign-in session is revoked: the token was
 * checked once, when the stream started, and a revoked user must not keep receiving or trading.
 */
export class LiveCalls {
  private readonly closers = new Set<Closer>();
  private readonly bySession = new Map<string, Set<Closer>>();
  private closedWith: ServiceError | undefined;

  /** revokedSession: the status ending a stream of that session if it is revoked, else undefined. */
  constructor(private readonly revokedSession: (sessionId: string) => ServiceError | undefined = () => undefined) {}

  /**
   * Registers a call's closer, with the session of its access token (none for public streams);
   * returns the function that unregisters it (when the call ends by itself). A call registered
   * after shutdown began, or whose session is already revoked, is closed at once.
   */
  register(close: Closer, sessionId?: string): () => void {
    if (this.closedWith !== undefined) {
      close(this.closedWith);
      return () => undefined;
    }
    // The session may have been revoked between the token check and this registration.
    const revoked = sessionId === undefined ? undefined : this.revokedSession(sessionId);
    if (revoked !== undefined) {
      close(revoked);
      return () => undefined;
    }
    this.closers.add(close);
    if (sessionId === undefined) return () => this.closers.delete(close);
    let ofSession = this.bySession.get(sessionId);
    if (ofSession === undefined) this.bySession.set(sessionId, (ofSession = new Set()));
    ofSession.add(close);
    return () => {
      this.closers.delete(close);
      const remaining = this.bySession.get(sessionId);
      remaining?.delete(close);
      if (remaining?.size === 0) this.bySession.delete(sessionId);
    };
  }

  /** Ends the streams of revoked sessions with the given status; returns how many were told to close. */
  closeSessions(sessionIds: readonly string[], reason: () => ServiceError): number {
    let closed = 0;
    for (const sessionId of sessionIds) {
      const ofSession = this.bySession.get(sessionId);
      if (ofSession === undefined) continue;
      this.bySession.delete(sessionId);
      for (const close of ofSession) {
        this.closers.delete(close);
        close(reason());
        closed++;
      }
    }
    return closed;
  }

  /** True once shutdown began (closeAll): streams ending now end because the server stops. */
  isClosing(): boolean {
    return this.closedWith !== undefined;
  }

  closeAll(reason: ServiceError): void {
    this.closedWith ??= reason;
    for (const close of [...this.closers]) close(reason);
    this.closers.clear();
    this.bySession.clear();
  }
}

