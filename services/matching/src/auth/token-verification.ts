import type { Logger } from '@orderbook/server-kit';
import { createJwksVerifier, RevocationWatcher, withRevocationCheck, withVerificationCache, type AuthChannel, type TokenVerifier } from '@orderbook/token-verifier';

/** Distinct access tokens whose verification is remembered until they expire (one per active session is plenty). */
const VERIFIED_TOKENS_CACHED = 100_000;
/** A token with an unknown kid refetches the keys at most this often (never less often than the key set's age allows). */
const MAX_UNKNOWN_KID_REFETCH_MS = 30_000;

export interface TokenVerificationOptions {
  readonly authAddress: string;
  /** TLS to auth; plaintext when absent. */
  readonly authChannel?: AuthChannel;
  readonly issuer: string;
  readonly audience: string;
  readonly keySetMaxAgeSeconds: number;
  readonly revocationFallbackSeconds: number;
  readonly logger: Logger;
  /** Told when the revocation feed goes up or down, and of each batch of revocations. */
  readonly onFeedStateChange: (up: boolean) => void;
  /** Told of each batch of revoked sessions, after their cached verifications were dropped. */
  readonly onRevoked: (sessionIds: readonly string[]) => void;
}

export interface TokenVerification {
  /** Signature and claims (cached per token), then the session's revocation, on every call. */
  readonly verifier: TokenVerifier;
  readonly revocations: RevocationWatcher;
  close(): void;
}

/**
 * How matching trusts a caller: the auth service's published keys, a cache of verified tokens,
 * and the auth service's revocation feed, which drops the cached verifications of a revoked
 * session the moment it arrives.
 */
export function createTokenVerification(options: TokenVerificationOptions): TokenVerification {
  const maxKeySetAgeMs = options.keySetMaxAgeSeconds * 1000;
  const cache = withVerificationCache(
    createJwksVerifier({
      authAddress: options.authAddress,
      ...(options.authChannel === undefined ? {} : { channel: options.authChannel }),
      issuer: options.issuer,
      audience: options.audience,
      maxKeySetAgeMs,
      minKeyRefreshIntervalMs: Math.min(MAX_UNKNOWN_KID_REFETCH_MS, maxKeySetAgeMs),
      logger: options.logger,
    }),
    { maxEntries: VERIFIED_TOKENS_CACHED },
  );
  const revocations = new RevocationWatcher({
    authAddress: options.authAddress,
    ...(options.authChannel === undefined ? {} : { channel: options.authChannel }),
    logger: options.logger,
    onStateChange: options.onFeedStateChange,
    onRevoked: (sessionIds) => {
      for (const sessionId of sessionIds) cache.forgetSession(sessionId);
      options.onRevoked(sessionIds);
    },
  });
  const verifier = withRevocationCheck(cache, revocations, { fallbackMaxAgeMs: options.revocationFallbackSeconds * 1000 });
  return {
    verifier,
    revocations,
    close: () => {
      revocations.close();
      verifier.close();
    },
  };
}
