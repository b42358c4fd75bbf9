import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import {
  ACCESS_TOKEN_ALGORITHM,
  ACCESS_TOKEN_TYPE,
  verifyAccessToken,
  type Role,
  type VerifiedIdentity,
} from '@orderbook/token-verifier';
import type { KeyRing } from './keys';

export interface AccessTokenOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
  /** Skew tolerated when this service verifies its own tokens (GetMe). */
  readonly clockToleranceSeconds: number;
}

/** Issues access tokens (EdDSA JWTs with a kid) and verifies them with the same rules as every other service. */
export class AccessTokens {
  constructor(
    private readonly keys: KeyRing,
    private readonly options: AccessTokenOptions,
  ) {}

  async issue(user: { readonly id: string; readonly roles: readonly Role[] }): Promise<{ token: string; expiresAtMs: number }> {
    const key = this.keys.signingKey();
    const issuedAt = Math.floor(Date.now() / 1000);
    const expiresAt = issuedAt + this.options.ttlSeconds;
    const token = await new SignJWT({ roles: [...user.roles] })
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALGORITHM, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setSubject(user.id)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(expiresAt)
      .setJti(randomUUID())
      .sign(key.privateKey);
    return { token, expiresAtMs: expiresAt * 1000 };
  }

  verify(token: string): Promise<VerifiedIdentity> {
    return verifyAccessToken(token, async (kid) => this.keys.publicKey(kid), this.options);
  }
}
