import pg from 'pg';
import type { Logger } from '@orderbook/server-kit';
import { runMigrations } from './migrations';
import { bindable, UniqueViolationError, type Row, type Sql, type SqlDatabase, type SqlValue, type TransactionOptions } from './sql';

export interface PostgresOptions {
  readonly connectionString: string;
  /** Overrides the connection's search_path (tests use a throw-away schema). */
  readonly schema?: string;
  readonly logger?: Pick<Logger, 'error'>;
}

async function translated<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof pg.DatabaseError && err.code === '23505') throw new UniqueViolationError(err.constraint ?? '');
    throw err;
  }
}

function over(client: pg.Pool | pg.PoolClient): Sql {
  const query = (sql: string, params: readonly SqlValue[] = []) => translated(() => client.query(sql, bindable(params)));
  return {
    all: async <R extends Row>(sql: string, params?: readonly SqlValue[]) => (await query(sql, params)).rows as R[],
    get: async <R extends Row>(sql: string, params?: readonly SqlValue[]) => (await query(sql, params)).rows[0] as R | undefined,
    run: async (sql, params) => (await query(sql, params)).rowCount ?? 0,
  };
}

/** The production store: a pg connection pool. */
class PostgresDatabase implements SqlDatabase {
  readonly dialect = 'postgres';
  private readonly direct: Sql;

  constructor(private readonly pool: pg.Pool) {
    this.direct = over(pool);
  }

  all<R extends Row>(sql: string, params?: readonly SqlValue[]): Promise<R[]> {
    return this.direct.all<R>(sql, params);
  }

  get<R extends Row>(sql: string, params?: readonly SqlValue[]): Promise<R | undefined> {
    return this.direct.get<R>(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.direct.run(sql, params);
  }

  async transaction<T>(work: (tx: Sql) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      if (options.advisoryLock !== undefined) await client.query('SELECT pg_advisory_xact_lock($1)', [options.advisoryLock]);
      for (const table of options.appendOrdered ?? []) await client.query(`LOCK TABLE ${table} IN EXCLUSIVE MODE`);
      const result = await work(over(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Connects a pool and migrates the schema (several instances starting at once take turns). */
export async function openPostgresDatabase(options: PostgresOptions): Promise<SqlDatabase> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    ...(options.schema === undefined ? {} : { options: `-c search_path=${quoteIdentifier(options.schema)}` }),
  });
  // An idle client losing its connection emits 'error' on the pool; unhandled, it would kill the process.
  pool.on('error', (err) => options.logger?.error({ err }, 'idle PostgreSQL connection failed'));
  const database = new PostgresDatabase(pool);
  try {
    await runMigrations(database);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return database;
}
