/**
 * The one SQL interface the repositories are written against, so that each query exists once for
 * both stores (SQLite and PostgreSQL). Statements use PostgreSQL's `$1, $2, ...` placeholders;
 * the SQLite adapter rewrites them. Values are strings, numbers, booleans (stored as 0/1) or null.
 */

export type Dialect = 'sqlite' | 'postgres';

export type SqlValue = string | number | boolean | null;

/** A row as the driver returns it: BIGINT columns arrive as numbers from SQLite and strings from pg. */
export type Row = Record<string, unknown>;

export interface Sql {
  all<R extends Row>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
  get<R extends Row>(sql: string, params?: readonly SqlValue[]): Promise<R | undefined>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface TransactionOptions {
  /**
   * Tables whose appends must become visible in the order of their serial keys: PostgreSQL takes
   * an exclusive lock on them first (a reader polling `seq > last` then never skips a row that
   * commits late). SQLite transactions are serialised anyway.
   */
  readonly appendOrdered?: readonly string[];
  /** A PostgreSQL advisory lock held until commit, serialising check-then-insert work across instances. */
  readonly advisoryLock?: number;
}

export interface SqlDatabase extends Sql {
  readonly dialect: Dialect;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it rejects. */
  transaction<T>(work: (tx: Sql) => Promise<T>, options?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}

/** A unique constraint refused a write; `constraint` is the index name (set in migrations.ts). */
export class UniqueViolationError extends Error {
  override readonly name = 'UniqueViolationError';
  constructor(readonly constraint: string) {
    super(`unique constraint ${constraint} violated`);
  }
}

/** What the drivers bind: booleans become 0/1 (flags are INTEGER columns in both databases). */
export function bindable(params: readonly SqlValue[]): Array<string | number | null> {
  return params.map((value) => (typeof value === 'boolean' ? Number(value) : value));
}

/** A BIGINT column as a number (pg returns strings); null stays null. */
export function msOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export function ms(value: unknown): number {
  return Number(value);
}
