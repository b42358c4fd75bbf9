import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type KeyLike } from 'jose';
import { TokenRejectedError, type Role, type VerifiedIdentity } from './identity';

/** The one signature algorithm access tokens use; anything else (none, HS256, RS256...) is refused before any key lookup. */
export const ACCESS_TOKEN_ALGORITHM = 'EdDSA';
/** RFC 9068 token type, so that no other kind of JWT signed with the same key passes as an access token. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
/** Far above a real token (~400 bytes); bounds the work an attacker can make us do. */
export const MAX_TOKEN_LENGTH = 8192;

const MAX_ID_LENGTH = 128;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const KNOWN_ROLES: ReadonlySet<string> = new Set<Role>(['trader', 'admin']);

export interface AccessTokenExpectations {
  readonly issuer: string;
  readonly audience: string;
  readonly clockToleranceSeconds: number;
}

/** The public key for a `kid`, or undefined if there is none; may reject with KeysUnavailableError. */
export type KeyResolver = (kid: string) => Promise<KeyLike | undefined>;

/** Checks an access token's shape, header, signature and claims; the auth service and every verifier share it. */
export async function verifyAccessToken(
  token: string,
  resolveKey: KeyResolver,
  expected: AccessTokenExpectations,
): Promise<VerifiedIdentity> {
  if (token.length === 0) throw new TokenRejectedError('token is empty');
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenRejectedError(`token is longer than ${MAX_TOKEN_LENGTH} characters`);
  if (!COMPACT_JWS.test(token)) throw new TokenRejectedError('token is not a signed JWT');

  let kid: unknown;
  try {
    const header = decodeProtectedHeader(token);
    if (header.alg !== ACCESS_TOKEN_ALGORITHM) throw new TokenRejectedError(`token algorithm is not ${ACCESS_TOKEN_ALGORITHM}`);
    kid = header.kid;
  } catch (err) {
    if (err instanceof TokenRejectedError) throw err;
    throw new TokenRejectedError('token header is malformed');
  }
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_ID_LENGTH) {
    throw new TokenRejectedError('token has no valid kid');
  }

  const key = await resolveKey(kid);
  if (key === undefined) throw new TokenRejectedError('token is signed with an unknown key');

  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: [ACCESS_TOKEN_ALGORITHM],
      typ: ACCESS_TOKEN_TYPE,
      issuer: expected.issuer,
      audience: expected.audience,
      clockTolerance: expected.clockToleranceSeconds,
      requiredClaims: ['exp', 'iat', 'sub', 'jti', 'sid'],
    }));
  } catch (err) {
    if (err instanceof errors.JOSEError) throw new TokenRejectedError(reasonOf(err));
    throw err;
  }
  // jose checks only that iat is a number; a token issued in the future is as unusable as one with a future nbf.
  if ((payload.iat as number) > Date.now() / 1000 + expected.clockToleranceSeconds) throw new TokenRejectedError('token is not valid yet');
  return identityOf(payload);
}

function reasonOf(err: errors.JOSEError): string {
  if (err instanceof errors.JWTExpired) return 'token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return `token has no ${err.claim} claim`;
    return err.claim === 'nbf' ? 'token is not valid yet' : `token ${err.claim} claim is wrong`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'token signature is invalid';
  return 'token is malformed';
}

function validId(value: unknown, claim: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH) throw new TokenRejectedError(`token ${claim} claim is invalid`);
  return value;
}

function identityOf(payload: JWTPayload): VerifiedIdentity {
  const { exp, iat, roles } = payload;
  if (!Array.isArray(roles) || !roles.every((role): role is string => typeof role === 'string')) {
    throw new TokenRejectedError('token roles claim must be an array of strings');
  }
  // Roles this build does not know grant nothing here, so a newer auth service adding one does not lock callers out.
  const known = roles.filter((role): role is Role => KNOWN_ROLES.has(role));
  return {
    userId: validId(payload.sub, 'sub'),
    sessionId: validId(payload['sid'], 'sid'),
    roles: [...new Set(known)],
    tokenId: validId(payload.jti, 'jti'),
    issuedAt: (iat as number) * 1000,
    expiresAt: (exp as number) * 1000,
  };
}
