import { randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';

export interface MintOptions {
  readonly key: KeyObject;
  readonly kid: string;
  readonly issuer: string;
  readonly audience: string;
  readonly subject: string;
  readonly roles: readonly string[];
  /** The `sid` claim: a session id (random by default: a session nobody revoked). */
  readonly sessionId?: string;
  /** Seconds relative to now; negative for a token that expired. Default +300. */
  readonly expiresInSeconds?: number;
}

/** An access token shaped exactly as the auth service issues them, signed with whatever key the test holds. */
export function mintAccessToken(options: MintOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + (options.expiresInSeconds ?? 300);
  const issuedAt = Math.min(now, exp - 60);
  return new SignJWT({ roles: [...options.roles], sid: options.sessionId ?? randomUUID() })
    .setProtectedHeader({ alg: 'EdDSA', kid: options.kid, typ: 'at+jwt' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(options.subject)
    .setIssuedAt(issuedAt)
    .setNotBefore(issuedAt)
    .setExpirationTime(exp)
    .setJti(randomUUID())
    .sign(options.key);
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** An unsigned token (alg "none") with otherwise valid claims: must never be accepted. */
export function unsignedToken(kid: string, issuer: string, audience: string, subject: string, roles: readonly string[]): string {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url({ alg: 'none', kid, typ: 'at+jwt' });
  const payload = base64url({ iss: issuer, aud: audience, sub: subject, roles, sid: randomUUID(), iat: now, nbf: now, exp: now + 300, jti: randomUUID() });
  return `${header}.${payload}.`;
}
