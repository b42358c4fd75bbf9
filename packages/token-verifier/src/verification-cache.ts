import type { TokenVerifier, VerifiedIdentity } from './identity';

export interface VerificationCacheOptions {
  /** Tokens remembered at most; the least recently added is forgotten first. */
  readonly maxEntries: number;
  /** Unix milliseconds; injectable for tests. */
  readonly now?: () => number;
}

/** A TokenVerifier that remembers verifications and can forget those of a session. */
export interface CachingVerifier extends TokenVerifier {
  /** Drops the cached verifications of the session's tokens (it was revoked). */
  forgetSession(sessionId: string): void;
}

/**
 * Remembers each verified token (keyed by its exact text) until its `exp`, so that a client
 * sending many calls with one token pays for one signature check, not one per call. Whether the
 * token's session was revoked is not the cache's question: withRevocationCheck asks it on every
 * call, cached or not. Refusals are never cached, so a key fetched later can still accept a
 * token refused earlier.
 */
export function withVerificationCache(verifier: TokenVerifier, options: VerificationCacheOptions): CachingVerifier {
  const now = options.now ?? Date.now;
  const verified = new Map<string, Promise<VerifiedIdentity>>();
  /** The settled entries of `verified`, readable without waiting. */
  const identities = new Map<string, VerifiedIdentity>();
  const tokensOfSession = new Map<string, Set<string>>();

  const remember = (token: string, identity: VerifiedIdentity): void => {
    if (!verified.has(token)) return;
    identities.set(token, identity);
    const tokens = tokensOfSession.get(identity.sessionId) ?? new Set<string>();
    tokens.add(token);
    tokensOfSession.set(identity.sessionId, tokens);
  };

  const drop = (token: string): void => {
    const pending = verified.get(token);
    verified.delete(token);
    identities.delete(token);
    pending?.then(
      (identity) => {
        const tokens = tokensOfSession.get(identity.sessionId);
        tokens?.delete(token);
        if (tokens?.size === 0) tokensOfSession.delete(identity.sessionId);
      },
      () => undefined,
    );
  };

  const verify = (token: string): Promise<VerifiedIdentity> => {
    const cached = verified.get(token);
    if (cached) return cached.then((identity) => (identity.expiresAt > now() ? identity : forget(token)));
    const pending = verifier.verify(token);
    verified.set(token, pending);
    if (verified.size > options.maxEntries) drop(verified.keys().next().value!);
    pending.then(
      (identity) => remember(token, identity),
      () => verified.delete(token),
    );
    return pending;
  };

  const forget = (token: string): Promise<VerifiedIdentity> => {
    drop(token);
    return verify(token);
  };

  return {
    verify,
    known: (token) => {
      const identity = identities.get(token);
      return identity !== undefined && identity.expiresAt > now() ? identity : undefined;
    },
    forgetSession: (sessionId) => {
      for (const token of tokensOfSession.get(sessionId) ?? []) {
        verified.delete(token);
        identities.delete(token);
      }
      tokensOfSession.delete(sessionId);
    },
    close: () => {
      verified.clear();
      identities.clear();
      tokensOfSession.clear();
      verifier.close();
    },
  };
}
