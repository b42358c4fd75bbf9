/** Who a verified access token says the caller is. */
export interface VerifiedIdentity {
  /** The token's `sub`: the auth service's user id. */
  readonly userId: string;
  /** The token's `sid`: the sign-in session it belongs to, what the auth service revokes. */
  readonly sessionId: string;
  readonly roles: readonly Role[];
  /** The token's `jti`. */
  readonly tokenId: string;
  /** The token's `iat`, in Unix milliseconds. */
  readonly issuedAt: number;
  /** The token's `exp`, in Unix milliseconds. */
  readonly expiresAt: number;
}

export type Role = 'trader' | 'admin';

/** Why a token was refused; the message never echoes the token. */
export class TokenRejectedError extends Error {
  override readonly name = 'TokenRejectedError';
}

/** Thrown when the keys cannot be fetched (auth service down): callers answer UNAVAILABLE, not UNAUTHENTICATED. */
export class KeysUnavailableError extends Error {
  override readonly name = 'KeysUnavailableError';
}

export interface TokenVerifier {
  /** Resolves the identity of a valid access token; rejects with TokenRejectedError or KeysUnavailableError. */
  verify(token: string): Promise<VerifiedIdentity>;
  /**
   * The identity of a token that verify() would accept right now, when that is known without
   * waiting (a remembered verification that passes every check now); undefined otherwise, and
   * then verify() decides. Spares a call the promise hops of verify() when the answer is cached.
   */
  known?(token: string): VerifiedIdentity | undefined;
  close(): void;
}
