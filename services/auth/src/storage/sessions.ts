import { appendRevocations, REVOCATIONS_TABLE } from './revocation-log';
import { ms, msOrNull, type Sql, type SqlDatabase } from './sql';

/** One sign-in and the refresh tokens rotated from it (refresh_tokens.family_id is its id). */
export interface SessionRecord {
  readonly id: string;
  readonly userId: string;
  readonly createdAtMs: number;
  readonly lastUsedAtMs: number;
  /** The expiry of its newest refresh token. */
  readonly expiresAtMs: number;
  readonly peer: string;
  readonly userAgent: string;
  /** Signed in with a second factor. */
  readonly secondFactor: boolean;
  readonly revokedAtMs: number | null;
}

export interface RefreshTokenRecord {
  /** SHA-256 of the token: the token itself is never stored. */
  readonly tokenHash: string;
  readonly sessionId: string;
  readonly userId: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  readonly spentAtMs: number | null;
  readonly revokedAtMs: number | null;
  /** The answer of the rotation that spent it, sealed; kept for the reuse grace period. */
  readonly sealedAnswer: string | null;
  /** The token that rotation issued. */
  readonly successorHash: string | null;
}

type SessionRow = {
  id: string;
  user_id: string;
  created_at_ms: unknown;
  last_used_at_ms: unknown;
  expires_at_ms: unknown;
  peer: string;
  user_agent: string;
  second_factor: unknown;
  revoked_at_ms: unknown;
};

type TokenRow = {
  token_hash: string;
  family_id: string;
  user_id: string;
  created_at_ms: unknown;
  expires_at_ms: unknown;
  spent_at_ms: unknown;
  revoked_at_ms: unknown;
  sealed_answer: string | null;
  successor_hash: string | null;
};

function sessionOf(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    createdAtMs: ms(row.created_at_ms),
    lastUsedAtMs: ms(row.last_used_at_ms),
    expiresAtMs: ms(row.expires_at_ms),
    peer: row.peer,
    userAgent: row.user_agent,
    secondFactor: Number(row.second_factor) === 1,
    revokedAtMs: msOrNull(row.revoked_at_ms),
  };
}

function tokenOf(row: TokenRow | undefined): RefreshTokenRecord | undefined {
  if (row === undefined) return undefined;
  return {
    tokenHash: row.token_hash,
    sessionId: row.family_id,
    userId: row.user_id,
    createdAtMs: ms(row.created_at_ms),
    expiresAtMs: ms(row.expires_at_ms),
    spentAtMs: msOrNull(row.spent_at_ms),
    revokedAtMs: msOrNull(row.revoked_at_ms),
    sealedAnswer: row.sealed_answer,
    successorHash: row.successor_hash,
  };
}

const INSERT_TOKEN = `INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at_ms, expires_at_ms)
  VALUES ($1, $2, $3, $4, $5)`;

/** Which live sessions to revoke: one, or all of a user's (but one). */
export type SessionSelector =
  | { readonly sessionId: string; readonly userId?: string }
  | { readonly userId: string; readonly exceptSessionId?: string };

export interface SessionsOptions {
  /**
   * How long after a revocation its session's access tokens may still be presented (their
   * lifetime plus clock skew): revocations are published that long.
   */
  readonly revocationRelevanceMs: number;
}

/**
 * Sessions and their refresh tokens. Revoking a session stops its refresh tokens and appends it
 * to the revocation log in the same transaction, so a verifier learns of every revocation.
 */
export class Sessions {
  constructor(
    private readonly db: SqlDatabase,
    private readonly options: SessionsOptions,
  ) {}

  /** Stores a new session with its first refresh token. */
  async open(session: Omit<SessionRecord, 'revokedAtMs' | 'lastUsedAtMs'>, firstTokenHash: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO sessions (id, user_id, created_at_ms, last_used_at_ms, expires_at_ms, peer, user_agent, second_factor)
         VALUES ($1, $2, $3, $3, $4, $5, $6, $7)`,
        [session.id, session.userId, session.createdAtMs, session.expiresAtMs, session.peer, session.userAgent, session.secondFactor],
      );
      await tx.run(INSERT_TOKEN, [firstTokenHash, session.id, session.userId, session.createdAtMs, session.expiresAtMs]);
    });
  }

  async session(id: string): Promise<SessionRecord | undefined> {
    const row = await this.db.get<SessionRow>('SELECT * FROM sessions WHERE id = $1', [id]);
    return row === undefined ? undefined : sessionOf(row);
  }

  /** A user's sessions that are neither revoked nor expired at nowMs, newest first. */
  async live(userId: string, nowMs: number): Promise<SessionRecord[]> {
    const rows = await this.db.all<SessionRow>(
      `SELECT * FROM sessions WHERE user_id = $1 AND revoked_at_ms IS NULL AND expires_at_ms > $2
       ORDER BY created_at_ms DESC, id`,
      [userId, nowMs],
    );
    return rows.map(sessionOf);
  }

  async token(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    return tokenOf(await this.db.get<TokenRow>('SELECT * FROM refresh_tokens WHERE token_hash = $1', [tokenHash]));
  }

  /**
   * Atomically spends the token if it is live (not spent, not revoked, not expired at nowMs),
   * keeps the sealed answer with it, stores the successor and extends the session. Returns the
   * spent token, or undefined (changing nothing) if it was not live — also when a concurrent
   * call spent it first.
   */
  async rotate(
    tokenHash: string,
    successor: { readonly tokenHash: string; readonly expiresAtMs: number; readonly sealedAnswer: string },
    nowMs: number,
  ): Promise<RefreshTokenRecord | undefined> {
    return this.db.transaction(async (tx) => {
      // READ COMMITTED suffices in PostgreSQL: a concurrent UPDATE of the row waits, then re-checks spent_at_ms and matches nothing.
      const spent = tokenOf(
        await tx.get<TokenRow>(
          `UPDATE refresh_tokens SET spent_at_ms = $2, sealed_answer = $3, successor_hash = $4
           WHERE token_hash = $1 AND spent_at_ms IS NULL AND revoked_at_ms IS NULL AND expires_at_ms > $2
           RETURNING *`,
          [tokenHash, nowMs, successor.sealedAnswer, successor.tokenHash],
        ),
      );
      if (spent === undefined) return undefined;
      await tx.run(INSERT_TOKEN, [successor.tokenHash, spent.sessionId, spent.userId, nowMs, successor.expiresAtMs]);
      await tx.run('UPDATE sessions SET last_used_at_ms = $2, expires_at_ms = $3 WHERE id = $1', [spent.sessionId, nowMs, successor.expiresAtMs]);
      return spent;
    });
  }

  /**
   * Revokes the selected live sessions (and their refresh tokens) at nowMs and appends them to
   * the revocation log. Returns the ids revoked; none when nothing matched.
   */
  async revoke(selector: SessionSelector, nowMs: number): Promise<string[]> {
    return this.db.transaction(
      async (tx) => {
        const ids = await this.revokeRows(tx, selector, nowMs);
        for (const id of ids) {
          await tx.run('UPDATE refresh_tokens SET revoked_at_ms = $2 WHERE family_id = $1 AND revoked_at_ms IS NULL', [id, nowMs]);
        }
        await appendRevocations(tx, ids, nowMs, nowMs + this.options.revocationRelevanceMs);
        return ids;
      },
      { appendOrdered: [REVOCATIONS_TABLE] },
    );
  }

  /**
   * Drops what no longer serves: refresh tokens past expiry, sealed answers past the reuse grace
   * period, and sessions that ended (revoked or expired) more than keepEndedMs ago.
   */
  async purge(nowMs: number, graceMs: number, keepEndedMs: number): Promise<void> {
    await this.db.run('DELETE FROM refresh_tokens WHERE expires_at_ms <= $1', [nowMs]);
    await this.db.run('UPDATE refresh_tokens SET sealed_answer = NULL WHERE sealed_answer IS NOT NULL AND spent_at_ms <= $1', [nowMs - graceMs]);
    await this.db.run('DELETE FROM sessions WHERE COALESCE(revoked_at_ms, expires_at_ms) <= $1', [nowMs - keepEndedMs]);
  }

  private async revokeRows(tx: Sql, selector: SessionSelector, nowMs: number): Promise<string[]> {
    const live = 'revoked_at_ms IS NULL AND expires_at_ms > $2';
    const rows =
      'sessionId' in selector
        ? await tx.all<{ id: string }>(
            `UPDATE sessions SET revoked_at_ms = $2 WHERE id = $1 AND ${live} AND ($3 = '' OR user_id = $3) RETURNING id`,
            [selector.sessionId, nowMs, selector.userId ?? ''],
          )
        : await tx.all<{ id: string }>(
            `UPDATE sessions SET revoked_at_ms = $2 WHERE user_id = $1 AND ${live} AND id <> $3 RETURNING id`,
            [selector.userId, nowMs, selector.exceptSessionId ?? ''],
          );
    return rows.map((row) => row.id).sort();
  }
}
