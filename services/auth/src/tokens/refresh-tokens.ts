import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { UnsealError, type Sealer } from '../security/sealing';
import type { RefreshTokenRecord, SessionRecord, Sessions } from '../storage/sessions';

/** 32 random bytes, base64url: the opaque token handed to the client. */
function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What is stored instead of the token: a database leak does not hand out usable tokens. */
function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** An access and refresh token as issued, times in Unix milliseconds. */
export interface IssuedPair {
  readonly accessToken: string;
  readonly accessTokenExpiresAtMs: number;
  readonly refreshToken: string;
  readonly refreshTokenExpiresAtMs: number;
}

/** Builds the access token that goes with a refresh token of the session. */
export type AccessTokenFor = (session: { readonly userId: string; readonly sessionId: string }) => Promise<{ token: string; expiresAtMs: number }>;

export type RotationResult =
  /** A new pair: the presented token is spent. */
  | { readonly kind: 'rotated'; readonly pair: IssuedPair; readonly userId: string; readonly sessionId: string }
  /** A retry within the grace period after a lost answer: the pair the first call issued. */
  | { readonly kind: 'replayed'; readonly pair: IssuedPair; readonly userId: string; readonly sessionId: string }
  /** A spent token came back too late (or after its successor was used): someone holds a copy. The session is now revoked. */
  | { readonly kind: 'reused'; readonly userId: string; readonly sessionId: string; readonly revoked: readonly string[] }
  /** Unknown, expired or revoked. */
  | { readonly kind: 'invalid' };

export interface RefreshTokenOptions {
  readonly ttlSeconds: number;
  /** How long after a rotation the same token still returns the same new pair. 0: never. */
  readonly reuseGraceMs: number;
}

/**
 * Refresh tokens and the sessions they belong to: one session per sign-in, a new token on every
 * use. A token used twice within the grace period answers the same pair (a client retrying after
 * a lost answer stays signed in); later, it revokes the session (a stolen copy is being replayed).
 */
export class RefreshTokens {
  constructor(
    private readonly sessions: Sessions,
    private readonly sealer: Sealer,
    private readonly options: RefreshTokenOptions,
  ) {}

  /** Opens a session and issues its first refresh token. */
  async open(
    session: Pick<SessionRecord, 'userId' | 'peer' | 'userAgent' | 'secondFactor'>,
    nowMs = Date.now(),
  ): Promise<{ readonly sessionId: string; readonly token: string; readonly expiresAtMs: number }> {
    const token = newRefreshToken();
    const sessionId = randomUUID();
    const expiresAtMs = nowMs + this.options.ttlSeconds * 1000;
    await this.sessions.open({ ...session, id: sessionId, createdAtMs: nowMs, expiresAtMs }, hashRefreshToken(token));
    return { sessionId, token, expiresAtMs };
  }

  async rotate(token: string, accessTokenFor: AccessTokenFor, nowMs = Date.now()): Promise<RotationResult> {
    const tokenHash = hashRefreshToken(token);
    const record = await this.sessions.token(tokenHash);
    if (record === undefined) return { kind: 'invalid' };
    if (isLive(record, nowMs)) {
      const next = newRefreshToken();
      const access = await accessTokenFor({ userId: record.userId, sessionId: record.sessionId });
      const pair: IssuedPair = {
        accessToken: access.token,
        accessTokenExpiresAtMs: access.expiresAtMs,
        refreshToken: next,
        refreshTokenExpiresAtMs: nowMs + this.options.ttlSeconds * 1000,
      };
      const sealedAnswer = this.sealer.seal(JSON.stringify(pair), answerContext(tokenHash));
      const spent = await this.sessions.rotate(tokenHash, { tokenHash: hashRefreshToken(next), expiresAtMs: pair.refreshTokenExpiresAtMs, sealedAnswer }, nowMs);
      if (spent !== undefined) return { kind: 'rotated', pair, userId: record.userId, sessionId: record.sessionId };
    }
    // Spent, by an earlier call or by a concurrent one that won the race: a retry or a replay.
    return this.spentAgain(tokenHash, nowMs);
  }

  /** Revokes the token's session; the revoked ids (none when the token is unknown or the session already ended). */
  async revokeSessionOf(token: string, nowMs = Date.now()): Promise<{ readonly userId: string; readonly revoked: readonly string[] } | undefined> {
    const record = await this.sessions.token(hashRefreshToken(token));
    if (record === undefined) return undefined;
    return { userId: record.userId, revoked: await this.sessions.revoke({ sessionId: record.sessionId }, nowMs) };
  }

  private async spentAgain(tokenHash: string, nowMs: number): Promise<RotationResult> {
    const record = await this.sessions.token(tokenHash);
    if (record === undefined || record.spentAtMs === null || record.revokedAtMs !== null || record.expiresAtMs <= nowMs) {
      return { kind: 'invalid' };
    }
    const successor = record.successorHash === null ? undefined : await this.sessions.token(record.successorHash);
    const successorUnused = successor !== undefined && successor.spentAtMs === null && successor.revokedAtMs === null;
    const withinGrace = nowMs - record.spentAtMs <= this.options.reuseGraceMs;
    if (withinGrace && successorUnused && record.sealedAnswer !== null) {
      const pair = this.openAnswer(record.sealedAnswer, tokenHash);
      if (pair !== undefined) return { kind: 'replayed', pair, userId: record.userId, sessionId: record.sessionId };
    }
    const revoked = await this.sessions.revoke({ sessionId: record.sessionId }, nowMs);
    return { kind: 'reused', userId: record.userId, sessionId: record.sessionId, revoked };
  }

  private openAnswer(sealed: string, tokenHash: string): IssuedPair | undefined {
    try {
      return JSON.parse(this.sealer.open(sealed, answerContext(tokenHash))) as IssuedPair;
    } catch (err) {
      // Sealed under another data key: treat like an answer past its grace period.
      if (err instanceof UnsealError) return undefined;
      throw err;
    }
  }
}

function isLive(record: RefreshTokenRecord, nowMs: number): boolean {
  return record.spentAtMs === null && record.revokedAtMs === null && record.expiresAtMs > nowMs;
}

function answerContext(tokenHash: string): string {
  return `refresh-answer:${tokenHash}`;
}
