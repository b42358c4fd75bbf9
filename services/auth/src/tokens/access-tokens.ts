import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import {
  ACCESS_TOKEN_ALGORITHM,
  ACCESS_TOKEN_TYPE,
  verifyAccessToken,
  type Role,
  type VerifiedIdentity,
} from '@orderbook/token-verifier';
import type { KeyRing } from './key-ring';

export interface AccessTokenOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
  /** Skew tolerated when this service verifies its own tokens. */
  readonly clockToleranceSeconds: number;
}

/** Who a token is for: the user, the roles it carries and the session it belongs to. */
export interface TokenSubject {
  readonly userId: string;
  readonly roles: readonly Role[];
  readonly sessionId: string;
  /** Signed in with a second factor: `amr` is ["pwd", "otp"] (RFC 8176), else ["pwd"]. */
  readonly secondFactor: boolean;
}

/** Issues access tokens (EdDSA JWTs with a kid and a session id) and verifies them with the same rules as every other service. */
export class AccessTokens {
  constructor(
    private readonly keys: KeyRing,
    private readonly options: AccessTokenOptions,
  ) {}

  async issue(subject: TokenSubject, nowMs = Date.now()): Promise<{ token: string; expiresAtMs: number }> {
    const key = this.keys.signingKey(nowMs);
    const issuedAt = Math.floor(nowMs / 1000);
    const expiresAt = issuedAt + this.options.ttlSeconds;
    const token = await new SignJWT({ roles: [...subject.roles], sid: subject.sessionId, amr: subject.secondFactor ? ['pwd', 'otp'] : ['pwd'] })
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALGORITHM, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setSubject(subject.userId)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(expiresAt)
      .setJti(randomUUID())
      .sign(key.privateKey);
    return { token, expiresAtMs: expiresAt * 1000 };
  }

  /** Checks signature and claims only; whether the session is still live is the caller's question. */
  verify(token: string): Promise<VerifiedIdentity> {
    return verifyAccessToken(token, async (kid) => this.keys.publicKey(kid), this.options);
  }
}
