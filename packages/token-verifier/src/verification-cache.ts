import type { TokenVerifier, VerifiedIdentity } from './identity';

export interface VerificationCacheOptions {
  /** Tokens remembered at most; the least recently added is forgotten first. */
  readonly maxEntries: number;
  /** Unix milliseconds; injectable for tests. */
  readonly now?: () => number;
}

/**
 * Remembers each verified token (keyed by its exact text) until its `exp`, so that a client
 * sending many calls with one token pays for one signature check, not one per call. An access
 * token cannot be revoked before it expires anyway, so caching changes no answer; refusals are
 * never cached, so a key fetched later can still accept a token refused earlier.
 */
export function withVerificationCache(verifier: TokenVerifier, options: VerificationCacheOptions): TokenVerifier {
  const now = options.now ?? Date.now;
  const verified = new Map<string, Promise<VerifiedIdentity>>();

  const verify = (token: string): Promise<VerifiedIdentity> => {
    const cached = verified.get(token);
    if (cached) return cached.then((identity) => (identity.expiresAt > now() ? identity : forget(token)));
    const pending = verifier.verify(token);
    verified.set(token, pending);
    if (verified.size > options.maxEntries) verified.delete(verified.keys().next().value!);
    pending.catch(() => verified.delete(token));
    return pending;
  };

  const forget = (token: string): Promise<VerifiedIdentity> => {
    verified.delete(token);
    return verify(token);
  };

  return {
    verify,
    close: () => {
      verified.clear();
      verifier.close();
    },
  };
}
