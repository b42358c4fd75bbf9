import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { RefreshTokenRecord, UserStore } from './user-store';

/** 32 random bytes, base64url: the opaque token handed to the client. */
function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What is stored instead of the token: a database leak does not hand out usable tokens. */
function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface IssuedRefreshToken {
  readonly token: string;
  readonly expiresAtMs: number;
}

export type RotationResult =
  | { readonly kind: 'rotated'; readonly userId: string; readonly familyId: string; readonly next: IssuedRefreshToken }
  /** A spent token came back: someone holds a copy. Its family is now revoked. */
  | { readonly kind: 'reused'; readonly userId: string; readonly familyId: string }
  /** Unknown, expired or revoked. */
  | { readonly kind: 'invalid' };

/** Refresh-token families: issue on sign-in, rotate on every use, revoke the family on reuse or sign-out. */
export class RefreshTokens {
  constructor(
    private readonly store: UserStore,
    private readonly ttlSeconds: number,
  ) {}

  /** Starts a new family (one per sign-in). */
  async issue(userId: string): Promise<IssuedRefreshToken> {
    const token = newRefreshToken();
    const now = Date.now();
    const expiresAtMs = now + this.ttlSeconds * 1000;
    await this.store.insertRefreshToken({
      tokenHash: hashRefreshToken(token),
      familyId: randomUUID(),
      userId,
      createdAtMs: now,
      expiresAtMs,
      spentAtMs: null,
      revokedAtMs: null,
    });
    return { token, expiresAtMs };
  }

  async rotate(token: string): Promise<RotationResult> {
    const now = Date.now();
    const next = newRefreshToken();
    const expiresAtMs = now + this.ttlSeconds * 1000;
    const spent = await this.store.rotateRefreshToken(hashRefreshToken(token), { tokenHash: hashRefreshToken(next), expiresAtMs }, now);
    if (spent !== undefined) {
      return { kind: 'rotated', userId: spent.userId, familyId: spent.familyId, next: { token: next, expiresAtMs } };
    }
    const record = await this.store.findRefreshToken(hashRefreshToken(token));
    if (record === undefined || !isReuse(record)) return { kind: 'invalid' };
    await this.store.revokeRefreshFamily(record.familyId, now);
    return { kind: 'reused', userId: record.userId, familyId: record.familyId };
  }

  /** Revokes the token's family; false when the token is unknown. */
  async revokeFamily(token: string): Promise<boolean> {
    const record = await this.store.findRefreshToken(hashRefreshToken(token));
    if (record === undefined) return false;
    await this.store.revokeRefreshFamily(record.familyId, Date.now());
    return true;
  }
}

function isReuse(record: RefreshTokenRecord): boolean {
  return record.spentAtMs !== null && record.revokedAtMs === null;
}
