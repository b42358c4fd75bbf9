import pg from 'pg';
import type { Logger } from '@orderbook/server-kit';
import type { Role } from '@orderbook/token-verifier';
import { MIGRATIONS_TABLE_SQL, pendingMigrations } from './migrations';
import { refreshTokenFromRow, userFromRow, type RefreshTokenRow, type UserRow } from './store-rows';
import { DuplicateUserError, duplicateField, encodeRoles, type RefreshTokenRecord, type UserRecord, type UserStore } from './user-store';

export interface PostgresStoreOptions {
  readonly connectionString: string;
  /** Overrides the connection's search_path (tests use a throw-away schema). */
  readonly schema?: string;
  readonly logger?: Pick<Logger, 'error'>;
}

/** Serialises migrations of concurrently starting instances. */
const MIGRATION_LOCK_KEY = 7_230_455_001;

/** The production store: a pg connection pool. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<UserStore> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    ...(options.schema === undefined ? {} : { options: `-c search_path=${quoteIdentifier(options.schema)}` }),
  });
  // An idle client losing its connection emits 'error' on the pool; unhandled, it would kill the process.
  pool.on('error', (err) => options.logger?.error({ err }, 'idle PostgreSQL connection failed'));
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return new PostgresUserStore(pool);
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

async function migrate(pool: pg.Pool): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(MIGRATIONS_TABLE_SQL);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    for (const migration of pendingMigrations(rows.map((row) => row.version))) {
      await client.query(migration.sql.postgres);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        Date.now(),
      ]);
    }
  });
}

const SPEND_TOKEN_SQL = `UPDATE refresh_tokens SET spent_at_ms = $2
  WHERE token_hash = $1 AND spent_at_ms IS NULL AND revoked_at_ms IS NULL AND expires_at_ms > $2
  RETURNING *`;
const INSERT_TOKEN_SQL = `INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at_ms, expires_at_ms, spent_at_ms, revoked_at_ms)
  VALUES ($1, $2, $3, $4, $5, $6, $7)`;

class PostgresUserStore implements UserStore {
  constructor(private readonly pool: pg.Pool) {}

  async createUser(user: UserRecord): Promise<void> {
    try {
      await this.pool.query(
        'INSERT INTO users (id, username, email, password_hash, roles, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)',
        [user.id, user.username, user.email, user.passwordHash, encodeRoles(user.roles), user.createdAtMs],
      );
    } catch (err) {
      const field = err instanceof pg.DatabaseError && err.code === '23505' ? duplicateField(err.constraint ?? '') : undefined;
      if (field !== undefined) throw new DuplicateUserError(field);
      throw err;
    }
  }

  async findUserById(id: string): Promise<UserRecord | undefined> {
    return this.oneUser('SELECT * FROM users WHERE id = $1', id);
  }

  async findUserByUsername(username: string): Promise<UserRecord | undefined> {
    return this.oneUser('SELECT * FROM users WHERE lower(username) = lower($1)', username);
  }

  async findUserByEmail(email: string): Promise<UserRecord | undefined> {
    return this.oneUser('SELECT * FROM users WHERE email = $1', email);
  }

  async updateUser(id: string, changes: { readonly passwordHash?: string; readonly roles?: readonly Role[] }): Promise<void> {
    await this.pool.query(
      'UPDATE users SET password_hash = COALESCE($2, password_hash), roles = COALESCE($3, roles) WHERE id = $1',
      [id, changes.passwordHash ?? null, changes.roles === undefined ? null : encodeRoles(changes.roles)],
    );
  }

  async insertRefreshToken(token: RefreshTokenRecord): Promise<void> {
    await this.pool.query(INSERT_TOKEN_SQL, [
      token.tokenHash,
      token.familyId,
      token.userId,
      token.createdAtMs,
      token.expiresAtMs,
      token.spentAtMs,
      token.revokedAtMs,
    ]);
  }

  async findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    const { rows } = await this.pool.query<RefreshTokenRow<string>>('SELECT * FROM refresh_tokens WHERE token_hash = $1', [tokenHash]);
    return refreshTokenFromRow(rows[0]);
  }

  async rotateRefreshToken(
    tokenHash: string,
    successor: { readonly tokenHash: string; readonly expiresAtMs: number },
    nowMs: number,
  ): Promise<RefreshTokenRecord | undefined> {
    // READ COMMITTED suffices: a concurrent UPDATE of the same row waits, then re-checks spent_at_ms and matches nothing.
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<RefreshTokenRow<string>>(SPEND_TOKEN_SQL, [tokenHash, nowMs]);
      const spent = refreshTokenFromRow(rows[0]);
      if (spent === undefined) return undefined;
      await client.query(INSERT_TOKEN_SQL, [successor.tokenHash, spent.familyId, spent.userId, nowMs, successor.expiresAtMs, null, null]);
      return spent;
    });
  }

  async revokeRefreshFamily(familyId: string, nowMs: number): Promise<void> {
    await this.pool.query('UPDATE refresh_tokens SET revoked_at_ms = $2 WHERE family_id = $1 AND revoked_at_ms IS NULL', [familyId, nowMs]);
  }

  async revokeUserRefreshTokens(userId: string, nowMs: number): Promise<void> {
    await this.pool.query('UPDATE refresh_tokens SET revoked_at_ms = $2 WHERE user_id = $1 AND revoked_at_ms IS NULL', [userId, nowMs]);
  }

  async deleteExpiredRefreshTokens(nowMs: number): Promise<number> {
    const result = await this.pool.query('DELETE FROM refresh_tokens WHERE expires_at_ms <= $1', [nowMs]);
    return result.rowCount ?? 0;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async oneUser(sql: string, value: string): Promise<UserRecord | undefined> {
    const { rows } = await this.pool.query<UserRow<string>>(sql, [value]);
    return userFromRow(rows[0]);
  }
}
