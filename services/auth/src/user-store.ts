import type { Role } from '@orderbook/token-verifier';

export interface UserRecord {
  /** UUID; the `sub` of the user's tokens. */
  readonly id: string;
  /** As given at sign-up; unique case-insensitively. */
  readonly username: string;
  /** Lower-cased; unique. */
  readonly email: string;
  readonly passwordHash: string;
  readonly roles: readonly Role[];
  readonly createdAtMs: number;
}

export interface RefreshTokenRecord {
  /** SHA-256 of the token: the token itself is never stored. */
  readonly tokenHash: string;
  /** All tokens rotated from one sign-in share a family; reuse of a spent one revokes it whole. */
  readonly familyId: string;
  readonly userId: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  readonly spentAtMs: number | null;
  readonly revokedAtMs: number | null;
}

/** Thrown by createUser when the database's unique constraint on the field refuses the user. */
export class DuplicateUserError extends Error {
  override readonly name = 'DuplicateUserError';
  constructor(readonly field: 'username' | 'email') {
    super(`${field} is already taken`);
  }
}

/** Persistence of users and refresh tokens: SQLite (sqlite-store.ts) or PostgreSQL (postgres-store.ts). */
export interface UserStore {
  /** Rejects with DuplicateUserError if the username (case-insensitively) or the email exists. */
  createUser(user: UserRecord): Promise<void>;
  findUserById(id: string): Promise<UserRecord | undefined>;
  /** Case-insensitive. */
  findUserByUsername(username: string): Promise<UserRecord | undefined>;
  /** Expects the lower-cased address. */
  findUserByEmail(email: string): Promise<UserRecord | undefined>;
  updateUser(id: string, changes: { readonly passwordHash?: string; readonly roles?: readonly Role[] }): Promise<void>;

  insertRefreshToken(token: RefreshTokenRecord): Promise<void>;
  findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined>;
  /**
   * Atomically spends the token if it is live (not spent, not revoked, not expired at nowMs) and
   * stores its successor in the same family. Returns the spent token, or undefined (and stores
   * nothing) if it was not live — also when a concurrent call spent it first.
   */
  rotateRefreshToken(
    tokenHash: string,
    successor: { readonly tokenHash: string; readonly expiresAtMs: number },
    nowMs: number,
  ): Promise<RefreshTokenRecord | undefined>;
  revokeRefreshFamily(familyId: string, nowMs: number): Promise<void>;
  revokeUserRefreshTokens(userId: string, nowMs: number): Promise<void>;
  /** Removes tokens past their expiry; returns how many. */
  deleteExpiredRefreshTokens(nowMs: number): Promise<number>;

  close(): Promise<void>;
}

const ROLES: readonly Role[] = ['trader', 'admin'];

/** Roles are stored as a comma-separated column in both databases. */
export function encodeRoles(roles: readonly Role[]): string {
  return roles.join(',');
}

export function decodeRoles(column: string): Role[] {
  return column.split(',').filter((role): role is Role => (ROLES as readonly string[]).includes(role));
}

/** Maps a unique-constraint violation to the field it protects (index names are set in migrations.ts). */
export function duplicateField(constraint: string): 'username' | 'email' | undefined {
  if (constraint.includes('username')) return 'username';
  if (constraint.includes('email')) return 'email';
  return undefined;
}
