import type { Role } from '@orderbook/token-verifier';
import { ms, UniqueViolationError, type Sql } from './sql';

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

/** Thrown by create when the database's unique index on the field refuses the user. */
export class DuplicateUserError extends Error {
  override readonly name = 'DuplicateUserError';
  constructor(readonly field: 'username' | 'email') {
    super(`${field} is already taken`);
  }
}

const ROLES: readonly Role[] = ['trader', 'admin'];

/** Roles are stored as a comma-separated column. */
function encodeRoles(roles: readonly Role[]): string {
  return roles.join(',');
}

function decodeRoles(column: string): Role[] {
  return column.split(',').filter((role): role is Role => (ROLES as readonly string[]).includes(role));
}

type UserRow = { id: string; username: string; email: string; password_hash: string; roles: string; created_at_ms: unknown };

function userOf(row: UserRow | undefined): UserRecord | undefined {
  if (row === undefined) return undefined;
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    passwordHash: row.password_hash,
    roles: decodeRoles(row.roles),
    createdAtMs: ms(row.created_at_ms),
  };
}

/** The unique indexes' names (migrations.ts) tell which field a duplicate hit. */
const DUPLICATE_FIELDS: Readonly<Record<string, 'username' | 'email'>> = {
  users_username_key: 'username',
  users_email_key: 'email',
};

/** The users table. */
export class Users {
  constructor(private readonly db: Sql) {}

  /** Rejects with DuplicateUserError if the username (case-insensitively) or the email exists. */
  async create(user: UserRecord): Promise<void> {
    try {
      await this.db.run('INSERT INTO users (id, username, email, password_hash, roles, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)', [
        user.id,
        user.username,
        user.email,
        user.passwordHash,
        encodeRoles(user.roles),
        user.createdAtMs,
      ]);
    } catch (err) {
      const field = err instanceof UniqueViolationError ? DUPLICATE_FIELDS[err.constraint] : undefined;
      if (field !== undefined) throw new DuplicateUserError(field);
      throw err;
    }
  }

  async byId(id: string): Promise<UserRecord | undefined> {
    return userOf(await this.db.get<UserRow>('SELECT * FROM users WHERE id = $1', [id]));
  }

  /** Case-insensitive. */
  async byUsername(username: string): Promise<UserRecord | undefined> {
    return userOf(await this.db.get<UserRow>('SELECT * FROM users WHERE lower(username) = lower($1)', [username]));
  }

  /** Any case. */
  async byEmail(email: string): Promise<UserRecord | undefined> {
    return userOf(await this.db.get<UserRow>('SELECT * FROM users WHERE email = $1', [email.toLowerCase()]));
  }

  /** A login is an email when it has an @ (usernames cannot), else a username. */
  byLogin(login: string): Promise<UserRecord | undefined> {
    return login.includes('@') ? this.byEmail(login) : this.byUsername(login);
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.db.run('UPDATE users SET password_hash = $2 WHERE id = $1', [id, passwordHash]);
  }

  async setRoles(id: string, roles: readonly Role[]): Promise<void> {
    await this.db.run('UPDATE users SET roles = $2 WHERE id = $1', [id, encodeRoles(roles)]);
  }

  /** Rejects with DuplicateUserError when the email belongs to someone else. */
  async setEmail(id: string, email: string): Promise<void> {
    try {
      await this.db.run('UPDATE users SET email = $2 WHERE id = $1', [id, email]);
    } catch (err) {
      if (err instanceof UniqueViolationError) throw new DuplicateUserError('email');
      throw err;
    }
  }

  /** The user that the AUTH_ADMIN_* variables manage, once bootstrapped. */
  async bootstrappedAdminId(): Promise<string | undefined> {
    const row = await this.db.get<{ user_id: string }>("SELECT user_id FROM admin_bootstrap WHERE name = 'admin'");
    return row?.user_id;
  }

  async rememberBootstrappedAdmin(userId: string): Promise<void> {
    await this.db.run(
      "INSERT INTO admin_bootstrap (name, user_id) VALUES ('admin', $1) ON CONFLICT (name) DO UPDATE SET user_id = excluded.user_id",
      [userId],
    );
  }
}
