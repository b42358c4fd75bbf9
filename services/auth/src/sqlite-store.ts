import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Role } from '@orderbook/token-verifier';
import { MIGRATIONS_TABLE_SQL, pendingMigrations } from './migrations';
import { refreshTokenFromRow, userFromRow, type RefreshTokenRow, type UserRow } from './store-rows';
import { DuplicateUserError, duplicateField, encodeRoles, type RefreshTokenRecord, type UserRecord, type UserStore } from './user-store';

/** The embedded default store: one SQLite file in WAL mode. */
export function openSqliteStore(file: string): UserStore {
  // Create it 0600 before SQLite does (SQLite gives its -wal and -shm files the same mode): it holds password hashes.
  closeSync(openSync(file, 'a', 0o600));
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  // A second process on the same file (say, a restart overlapping the old one) may hold the write lock briefly.
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return new SqliteUserStore(db);
}

function migrate(db: Database.Database): void {
  db.transaction(() => {
    db.exec(MIGRATIONS_TABLE_SQL);
    const applied = db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[];
    for (const migration of pendingMigrations(applied)) {
      db.exec(migration.sql.sqlite);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        Date.now(),
      );
    }
  }).immediate();
}

class SqliteUserStore implements UserStore {
  private readonly statements;
  private readonly rotate;

  constructor(private readonly db: Database.Database) {
    this.statements = {
      insertUser: db.prepare(
        'INSERT INTO users (id, username, email, password_hash, roles, created_at_ms) VALUES (@id, @username, @email, @passwordHash, @roles, @createdAtMs)',
      ),
      userById: db.prepare<[string], UserRow<number>>('SELECT * FROM users WHERE id = ?'),
      userByUsername: db.prepare<[string], UserRow<number>>('SELECT * FROM users WHERE lower(username) = lower(?)'),
      userByEmail: db.prepare<[string], UserRow<number>>('SELECT * FROM users WHERE email = ?'),
      setPasswordHash: db.prepare('UPDATE users SET password_hash = ? WHERE id = ?'),
      setRoles: db.prepare('UPDATE users SET roles = ? WHERE id = ?'),
      insertToken: db.prepare(
        `INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at_ms, expires_at_ms, spent_at_ms, revoked_at_ms)
         VALUES (@tokenHash, @familyId, @userId, @createdAtMs, @expiresAtMs, @spentAtMs, @revokedAtMs)`,
      ),
      tokenByHash: db.prepare<[string], RefreshTokenRow<number>>('SELECT * FROM refresh_tokens WHERE token_hash = ?'),
      spendToken: db.prepare<[{ nowMs: number; tokenHash: string }], RefreshTokenRow<number>>(
        `UPDATE refresh_tokens SET spent_at_ms = @nowMs
         WHERE token_hash = @tokenHash AND spent_at_ms IS NULL AND revoked_at_ms IS NULL AND expires_at_ms > @nowMs
         RETURNING *`,
      ),
      revokeFamily: db.prepare('UPDATE refresh_tokens SET revoked_at_ms = ? WHERE family_id = ? AND revoked_at_ms IS NULL'),
      revokeUser: db.prepare('UPDATE refresh_tokens SET revoked_at_ms = ? WHERE user_id = ? AND revoked_at_ms IS NULL'),
      deleteExpired: db.prepare('DELETE FROM refresh_tokens WHERE expires_at_ms <= ?'),
    };
    this.rotate = db.transaction(
      (tokenHash: string, successor: { tokenHash: string; expiresAtMs: number }, nowMs: number): RefreshTokenRow<number> | undefined => {
        const spent = this.statements.spendToken.get({ nowMs, tokenHash });
        if (spent === undefined) return undefined;
        this.statements.insertToken.run({
          tokenHash: successor.tokenHash,
          familyId: spent.family_id,
          userId: spent.user_id,
          createdAtMs: nowMs,
          expiresAtMs: successor.expiresAtMs,
          spentAtMs: null,
          revokedAtMs: null,
        });
        return spent;
      },
    );
  }

  async createUser(user: UserRecord): Promise<void> {
    try {
      this.statements.insertUser.run({ ...user, roles: encodeRoles(user.roles) });
    } catch (err) {
      const field = err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE' ? duplicateField(err.message) : undefined;
      if (field !== undefined) throw new DuplicateUserError(field);
      throw err;
    }
  }

  async findUserById(id: string): Promise<UserRecord | undefined> {
    return userFromRow(this.statements.userById.get(id));
  }

  async findUserByUsername(username: string): Promise<UserRecord | undefined> {
    return userFromRow(this.statements.userByUsername.get(username));
  }

  async findUserByEmail(email: string): Promise<UserRecord | undefined> {
    return userFromRow(this.statements.userByEmail.get(email));
  }

  async updateUser(id: string, changes: { readonly passwordHash?: string; readonly roles?: readonly Role[] }): Promise<void> {
    this.db.transaction(() => {
      if (changes.passwordHash !== undefined) this.statements.setPasswordHash.run(changes.passwordHash, id);
      if (changes.roles !== undefined) this.statements.setRoles.run(encodeRoles(changes.roles), id);
    })();
  }

  async insertRefreshToken(token: RefreshTokenRecord): Promise<void> {
    this.statements.insertToken.run(token);
  }

  async findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    return refreshTokenFromRow(this.statements.tokenByHash.get(tokenHash));
  }

  async rotateRefreshToken(
    tokenHash: string,
    successor: { readonly tokenHash: string; readonly expiresAtMs: number },
    nowMs: number,
  ): Promise<RefreshTokenRecord | undefined> {
    return refreshTokenFromRow(this.rotate.immediate(tokenHash, successor, nowMs));
  }

  async revokeRefreshFamily(familyId: string, nowMs: number): Promise<void> {
    this.statements.revokeFamily.run(nowMs, familyId);
  }

  async revokeUserRefreshTokens(userId: string, nowMs: number): Promise<void> {
    this.statements.revokeUser.run(nowMs, userId);
  }

  async deleteExpiredRefreshTokens(nowMs: number): Promise<number> {
    return this.statements.deleteExpired.run(nowMs).changes;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
