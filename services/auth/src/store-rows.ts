import { decodeRoles, type RefreshTokenRecord, type UserRecord } from './user-store';

/**
 * Rows of the two tables as the database drivers return them. Millisecond columns arrive as
 * numbers from better-sqlite3 and as strings from pg (BIGINT): `Ms` is whichever it is.
 */
export interface UserRow<Ms extends number | string> {
  id: string;
  username: string;
  email: string;
  password_hash: string;
  roles: string;
  created_at_ms: Ms;
}

export interface RefreshTokenRow<Ms extends number | string> {
  token_hash: string;
  family_id: string;
  user_id: string;
  created_at_ms: Ms;
  expires_at_ms: Ms;
  spent_at_ms: Ms | null;
  revoked_at_ms: Ms | null;
}

export function userFromRow(row: UserRow<number | string> | undefined): UserRecord | undefined {
  if (row === undefined) return undefined;
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    passwordHash: row.password_hash,
    roles: decodeRoles(row.roles),
    createdAtMs: Number(row.created_at_ms),
  };
}

export function refreshTokenFromRow(row: RefreshTokenRow<number | string> | undefined): RefreshTokenRecord | undefined {
  if (row === undefined) return undefined;
  return {
    tokenHash: row.token_hash,
    familyId: row.family_id,
    userId: row.user_id,
    createdAtMs: Number(row.created_at_ms),
    expiresAtMs: Number(row.expires_at_ms),
    spentAtMs: row.spent_at_ms === null ? null : Number(row.spent_at_ms),
    revokedAtMs: row.revoked_at_ms === null ? null : Number(row.revoked_at_ms),
  };
}
