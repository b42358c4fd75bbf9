import { TokenRejectedError, type TokenVerifier, type VerifiedIdentity } from './identity';
import type { FeedState } from './revocation-watcher';

/** What the revocation check needs of the feed (RevocationWatcher). */
export interface RevocationSource {
  isRevoked(sessionId: string): boolean;
  state(nowMs?: number): FeedState;
}

/** The session of the token was revoked (sign-out, password change, new roles...). */
export class SessionRevokedError extends TokenRejectedError {
  constructor() {
    super("token's session has been revoked: sign in again");
  }
}

/** The revocation feed is down and the token is too old to trust without it. */
export class RevocationFeedDownError extends TokenRejectedError {
  constructor(maxAgeSeconds: number) {
    super(`revocations cannot be checked (the auth service's feed is down) and the token is older than ${maxAgeSeconds} s: refresh it`);
  }
}

export interface RevocationCheckOptions {
  /**
   * While the feed is down, the longest a revocation may go unnoticed: a token is refused once
   * both it and the feed's last message are older than this. 0: no limit (tokens are trusted
   * until they expire while the feed is down).
   */
  readonly fallbackMaxAgeMs: number;
  readonly now?: () => number;
}

/**
 * Refuses the tokens of revoked sessions on every call, after signature and claims were checked
 * (possibly from a cache). While the feed is down, a token is accepted only if it was issued, or
 * the feed last heard from, less than fallbackMaxAgeMs ago: a revocation made meanwhile then
 * takes effect at most that late (the client refreshes, and auth refuses a revoked session).
 */
export function withRevocationCheck(verifier: TokenVerifier, revocations: RevocationSource, options: RevocationCheckOptions): TokenVerifier {
  const now = options.now ?? Date.now;
  /** Why the identity's token is refused now, or undefined when it is not. */
  const refusal = (identity: VerifiedIdentity): TokenRejectedError | undefined => {
    if (revocations.isRevoked(identity.sessionId)) return new SessionRevokedError();
    if (options.fallbackMaxAgeMs > 0) {
      const nowMs = now();
      const feed = revocations.state(nowMs);
      if (!feed.up && nowMs - Math.max(identity.issuedAt, feed.completeUntilMs) >= options.fallbackMaxAgeMs) {
        return new RevocationFeedDownError(Math.round(options.fallbackMaxAgeMs / 1000));
      }
    }
    return undefined;
  };
  return {
    verify: async (token): Promise<VerifiedIdentity> => {
      const identity = await verifier.verify(token);
      const refused = refusal(identity);
      if (refused !== undefined) throw refused;
      return identity;
    },
    known: (token) => {
      const identity = verifier.known?.(token);
      // A refusal is left to verify(), which throws it.
      return identity !== undefined && refusal(identity) === undefined ? identity : undefined;
    },
    close: () => verifier.close(),
  };
}
