import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { runMigrations } from './migrations';
import { bindable, UniqueViolationError, type Row, type Sql, type SqlDatabase, type SqlValue } from './sql';

/** `$1` → `@p1`: better-sqlite3 binds numbered values by name. */
function sqliteText(sql: string): string {
  return sql.replace(/\$(\d+)/g, '@p$1');
}

function bindings(params: readonly SqlValue[]): Record<string, string | number | null> {
  return Object.fromEntries(bindable(params).map((value, i) => [`p${i + 1}`, value]));
}

function translated<T>(work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (err instanceof Database.SqliteError && err.code.startsWith('SQLITE_CONSTRAINT_UNIQUE')) {
      // "UNIQUE constraint failed: users.email" names columns, not the index: map back to the index name.
      throw new UniqueViolationError(indexOfMessage(err.message));
    }
    throw err;
  }
}

/**
 * SQLite names an expression index ("index 'users_username_key'") but a column one by its column
 * ("users.email"); unique indexes on one column are named <table>_<column>_key (migrations.ts).
 */
function indexOfMessage(message: string): string {
  const named = /index '([^']+)'/.exec(message)?.[1];
  if (named !== undefined) return named;
  const column = /failed: (\w+)\.(\w+)$/.exec(message);
  return column === null ? message : `${column[1]}_${column[2]}_key`;
}

/**
 * The embedded store: one SQLite file in WAL mode. better-sqlite3 is synchronous; statements are
 * serialised through one queue so that an open transaction never interleaves with another call's
 * statements between its awaits. One per file per process: a second connection's busy wait would
 * block the event loop that the first one's open transaction needs to finish.
 */
class SqliteDatabase implements SqlDatabase {
  readonly dialect = 'sqlite';
  private queue: Promise<unknown> = Promise.resolve();
  private readonly statements = new Map<string, Database.Statement>();
  private readonly direct: Sql;

  constructor(private readonly db: Database.Database) {
    this.direct = {
      all: async <R extends Row>(sql: string, params: readonly SqlValue[] = []) =>
        translated(() => this.statement(sql).all(bindings(params)) as R[]),
      get: async <R extends Row>(sql: string, params: readonly SqlValue[] = []) =>
        translated(() => this.statement(sql).get(bindings(params)) as R | undefined),
      run: async (sql: string, params: readonly SqlValue[] = []) => translated(() => this.statement(sql).run(bindings(params)).changes),
    };
  }

  all<R extends Row>(sql: string, params?: readonly SqlValue[]): Promise<R[]> {
    return this.serialised(() => this.direct.all<R>(sql, params));
  }

  get<R extends Row>(sql: string, params?: readonly SqlValue[]): Promise<R | undefined> {
    return this.serialised(() => this.direct.get<R>(sql, params));
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.serialised(() => this.direct.run(sql, params));
  }

  transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
    return this.serialised(async () => {
      // IMMEDIATE takes the write lock at once: another process on the file waits (busy_timeout) instead of failing mid-way.
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(this.direct);
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    await this.serialised(async () => this.db.close());
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sqliteText(sql));
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/** Opens (creating it 0600) and migrates the SQLite database at `file`. */
export async function openSqliteDatabase(file: string): Promise<SqlDatabase> {
  // Create it 0600 before SQLite does (SQLite gives its -wal and -shm files the same mode): it holds password hashes.
  closeSync(openSync(file, 'a', 0o600));
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  // A second process on the same file (say, a restart overlapping the old one) may hold the write lock briefly.
  db.pragma('busy_timeout = 5000');
  const database = new SqliteDatabase(db);
  try {
    await runMigrations(database);
  } catch (err) {
    await database.close();
    throw err;
  }
  return database;
}
