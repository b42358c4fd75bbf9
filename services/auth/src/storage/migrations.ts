import type { Dialect, SqlDatabase } from './sql';

/**
 * Versioned schema changes, each described once and rendered for both stores (SQLite and
 * PostgreSQL). Applied in order inside a transaction and recorded in `schema_migrations`; never
 * edit an applied migration, append a new version.
 */

/** Column types by what they hold; each dialect names them its own way. */
type ColumnType = 'text' | 'unixMs' | 'int' | 'serial';

const COLUMN_TYPES: Readonly<Record<ColumnType, Readonly<Record<Dialect, string>>>> = {
  text: { sqlite: 'TEXT', postgres: 'TEXT' },
  // Milliseconds since 1970 pass 2^31: 64-bit in PostgreSQL (SQLite's INTEGER is 64-bit already).
  unixMs: { sqlite: 'INTEGER', postgres: 'BIGINT' },
  // Flags (0/1), counters and TOTP time steps: 32 bits are plenty.
  int: { sqlite: 'INTEGER', postgres: 'INTEGER' },
  // An ever-growing sequence number, in commit order (see TransactionOptions.appendOrdered).
  serial: { sqlite: 'INTEGER PRIMARY KEY AUTOINCREMENT', postgres: 'BIGSERIAL PRIMARY KEY' },
};

interface Column {
  readonly name: string;
  readonly type: ColumnType;
  readonly primaryKey?: true;
  readonly nullable?: true;
  /** `table (column)`, deleting this row with the referenced one. */
  readonly references?: string;
}

interface Table {
  readonly name: string;
  readonly columns: readonly Column[];
}

interface Index {
  readonly name: string;
  readonly table: string;
  /** The indexed expression, in SQL both dialects read alike. */
  readonly on: string;
  readonly unique?: true;
}

interface SchemaChange {
  readonly version: number;
  readonly name: string;
  readonly tables: readonly Table[];
  readonly indexes: readonly Index[];
  /** Nullable columns added to existing tables. */
  readonly addedColumns?: readonly { readonly table: string; readonly column: Column }[];
  /** Tables whose rows can be inserted but never updated or deleted (enforced by triggers). */
  readonly appendOnly?: readonly string[];
}

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** The statements of the change, one by one. */
  readonly statements: Readonly<Record<Dialect, readonly string[]>>;
}

const SCHEMA: readonly SchemaChange[] = [
  {
    version: 1,
    name: 'users and refresh tokens',
    tables: [
      {
        name: 'users',
        columns: [
          { name: 'id', type: 'text', primaryKey: true },
          { name: 'username', type: 'text' },
          { name: 'email', type: 'text' },
          { name: 'password_hash', type: 'text' },
          { name: 'roles', type: 'text' },
          { name: 'created_at_ms', type: 'unixMs' },
        ],
      },
      {
        name: 'refresh_tokens',
        columns: [
          { name: 'token_hash', type: 'text', primaryKey: true },
          { name: 'family_id', type: 'text' },
          { name: 'user_id', type: 'text', references: 'users (id)' },
          { name: 'created_at_ms', type: 'unixMs' },
          { name: 'expires_at_ms', type: 'unixMs' },
          { name: 'spent_at_ms', type: 'unixMs', nullable: true },
          { name: 'revoked_at_ms', type: 'unixMs', nullable: true },
        ],
      },
    ],
    // The unique indexes' names tell a duplicate's field (see users.ts).
    indexes: [
      { name: 'users_username_key', table: 'users', on: 'lower(username)', unique: true },
      { name: 'users_email_key', table: 'users', on: 'email', unique: true },
      { name: 'refresh_tokens_family', table: 'refresh_tokens', on: 'family_id' },
      { name: 'refresh_tokens_user', table: 'refresh_tokens', on: 'user_id' },
      { name: 'refresh_tokens_expiry', table: 'refresh_tokens', on: 'expires_at_ms' },
    ],
  },
  {
    version: 2,
    name: 'sessions, revocations, shared signing keys, TOTP, audit log, admin bootstrap',
    tables: [
      {
        // One row per sign-in; refresh_tokens.family_id is its id.
        name: 'sessions',
        columns: [
          { name: 'id', type: 'text', primaryKey: true },
          { name: 'user_id', type: 'text', references: 'users (id)' },
          { name: 'created_at_ms', type: 'unixMs' },
          { name: 'last_used_at_ms', type: 'unixMs' },
          { name: 'expires_at_ms', type: 'unixMs' },
          { name: 'peer', type: 'text' },
          { name: 'user_agent', type: 'text' },
          { name: 'second_factor', type: 'int' },
          { name: 'revoked_at_ms', type: 'unixMs', nullable: true },
        ],
      },
      {
        name: 'revocations',
        columns: [
          { name: 'seq', type: 'serial' },
          { name: 'session_id', type: 'text' },
          { name: 'revoked_at_ms', type: 'unixMs' },
          { name: 'relevant_until_ms', type: 'unixMs' },
        ],
      },
      {
        // Private keys sealed with AUTH_ENCRYPTION_KEY; a key signs from activates_at_ms on.
        name: 'signing_keys',
        columns: [
          { name: 'kid', type: 'text', primaryKey: true },
          { name: 'created_at_ms', type: 'unixMs' },
          { name: 'activates_at_ms', type: 'unixMs' },
          { name: 'sealed_private_key', type: 'text' },
        ],
      },
      {
        name: 'totp_factors',
        columns: [
          { name: 'user_id', type: 'text', primaryKey: true, references: 'users (id)' },
          { name: 'sealed_secret', type: 'text' },
          { name: 'created_at_ms', type: 'unixMs' },
          { name: 'confirmed_at_ms', type: 'unixMs', nullable: true },
          // The newest time step a code was accepted for: older or equal steps are replays.
          { name: 'last_time_step', type: 'int' },
        ],
      },
      {
        name: 'recovery_codes',
        columns: [
          { name: 'code_hash', type: 'text', primaryKey: true },
          { name: 'user_id', type: 'text', references: 'users (id)' },
          { name: 'created_at_ms', type: 'unixMs' },
          { name: 'used_at_ms', type: 'unixMs', nullable: true },
        ],
      },
      {
        name: 'audit_events',
        columns: [
          { name: 'seq', type: 'serial' },
          { name: 'at_ms', type: 'unixMs' },
          { name: 'kind', type: 'text' },
          { name: 'actor_id', type: 'text', nullable: true },
          { name: 'subject_id', type: 'text', nullable: true },
          { name: 'session_id', type: 'text', nullable: true },
          { name: 'peer', type: 'text', nullable: true },
          { name: 'detail', type: 'text' },
        ],
      },
      {
        // The user that AUTH_ADMIN_* manages, remembered by id: a name alone can be taken by someone else.
        name: 'admin_bootstrap',
        columns: [
          { name: 'name', type: 'text', primaryKey: true },
          { name: 'user_id', type: 'text', references: 'users (id)' },
        ],
      },
    ],
    addedColumns: [
      // A rotation's answer, sealed, kept for the reuse grace period: a retried refresh gets it again.
      { table: 'refresh_tokens', column: { name: 'sealed_answer', type: 'text', nullable: true } },
      { table: 'refresh_tokens', column: { name: 'successor_hash', type: 'text', nullable: true } },
    ],
    indexes: [
      { name: 'sessions_user', table: 'sessions', on: 'user_id' },
      { name: 'revocations_relevance', table: 'revocations', on: 'relevant_until_ms' },
      { name: 'recovery_codes_user', table: 'recovery_codes', on: 'user_id' },
      { name: 'audit_events_subject', table: 'audit_events', on: 'subject_id' },
      { name: 'audit_events_actor', table: 'audit_events', on: 'actor_id' },
    ],
    appendOnly: ['audit_events'],
  },
];

function columnSql(column: Column, dialect: Dialect): string {
  const parts = [column.name, COLUMN_TYPES[column.type][dialect]];
  if (column.primaryKey) parts.push('PRIMARY KEY');
  else if (!column.nullable && column.type !== 'serial') parts.push('NOT NULL');
  if (column.references !== undefined) parts.push(`REFERENCES ${column.references} ON DELETE CASCADE`);
  return parts.join(' ');
}

function appendOnlySql(table: string, dialect: Dialect): string[] {
  const message = `${table} is append-only`;
  if (dialect === 'sqlite') {
    return ['UPDATE', 'DELETE'].map(
      (operation) =>
        `CREATE TRIGGER ${table}_no_${operation.toLowerCase()} BEFORE ${operation} ON ${table} BEGIN SELECT RAISE(ABORT, '${message}'); END;`,
    );
  }
  return [
    `CREATE FUNCTION ${table}_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${message}'; END $$;`,
    `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ${table}_refuse_change();`,
  ];
}

/** The statements of one schema change in one dialect: each table and its indexes, added columns, triggers. */
function renderStatements(change: SchemaChange, dialect: Dialect): string[] {
  return [
    ...change.tables.flatMap((table) => [
      `CREATE TABLE ${table.name} (\n${table.columns.map((c) => `  ${columnSql(c, dialect)}`).join(',\n')}\n);`,
      ...change.indexes
        .filter((index) => index.table === table.name)
        .map((index) => `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${index.name} ON ${index.table} (${index.on});`),
    ]),
    ...(change.addedColumns ?? []).map(({ table, column }) => `ALTER TABLE ${table} ADD COLUMN ${columnSql(column, dialect)};`),
    ...(change.appendOnly ?? []).flatMap((table) => appendOnlySql(table, dialect)),
  ];
}

export const MIGRATIONS: readonly Migration[] = SCHEMA.map((change) => ({
  version: change.version,
  name: change.name,
  statements: { sqlite: renderStatements(change, 'sqlite'), postgres: renderStatements(change, 'postgres') },
}));

const MIGRATIONS_TABLE_SQL = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at_ms BIGINT NOT NULL
)`;

/** Serialises migrations of concurrently starting instances (PostgreSQL advisory lock). */
const MIGRATION_LOCK_KEY = 7_230_455_001;

/** The migrations still to apply; refuses a database migrated by a newer build. */
export function pendingMigrations(applied: readonly number[]): Migration[] {
  const latest = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
  const newest = Math.max(0, ...applied);
  if (newest > latest) {
    throw new Error(`auth database schema is at version ${newest}, newer than this build knows (${latest})`);
  }
  const done = new Set(applied);
  return MIGRATIONS.filter((migration) => !done.has(migration.version));
}

/** Applies the pending migrations in one transaction. */
export async function runMigrations(db: SqlDatabase): Promise<void> {
  await db.transaction(
    async (tx) => {
      await tx.run(MIGRATIONS_TABLE_SQL);
      const applied = await tx.all<{ version: number }>('SELECT version FROM schema_migrations');
      for (const migration of pendingMigrations(applied.map((row) => Number(row.version)))) {
        for (const statement of migration.statements[db.dialect]) await tx.run(statement);
        await tx.run('INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)', [
          migration.version,
          migration.name,
          Date.now(),
        ]);
      }
    },
    { advisoryLock: MIGRATION_LOCK_KEY },
  );
}
