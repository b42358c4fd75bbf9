/**
 * Versioned schema changes, each described once and rendered for both stores (SQLite and
 * PostgreSQL). Applied in order inside a transaction and recorded in `schema_migrations`; never
 * edit an applied migration, append a new version.
 */

export type Dialect = 'sqlite' | 'postgres';

/** Column types by what they hold; each dialect names them its own way. */
type ColumnType = 'text' | 'unixMs';

const COLUMN_TYPES: Readonly<Record<ColumnType, Readonly<Record<Dialect, string>>>> = {
  text: { sqlite: 'TEXT', postgres: 'TEXT' },
  // Milliseconds since 1970 pass 2^31: 64-bit in PostgreSQL (SQLite's INTEGER is 64-bit already).
  unixMs: { sqlite: 'INTEGER', postgres: 'BIGINT' },
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
}

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: Readonly<Record<Dialect, string>>;
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
    // The unique indexes' names tell a duplicate's field (see duplicateField in user-store.ts).
    indexes: [
      { name: 'users_username_key', table: 'users', on: 'lower(username)', unique: true },
      { name: 'users_email_key', table: 'users', on: 'email', unique: true },
      { name: 'refresh_tokens_family', table: 'refresh_tokens', on: 'family_id' },
      { name: 'refresh_tokens_user', table: 'refresh_tokens', on: 'user_id' },
      { name: 'refresh_tokens_expiry', table: 'refresh_tokens', on: 'expires_at_ms' },
    ],
  },
];

function columnSql(column: Column, dialect: Dialect): string {
  const parts = [column.name, COLUMN_TYPES[column.type][dialect]];
  if (column.primaryKey) parts.push('PRIMARY KEY');
  else if (!column.nullable) parts.push('NOT NULL');
  if (column.references !== undefined) parts.push(`REFERENCES ${column.references} ON DELETE CASCADE`);
  return parts.join(' ');
}

/** The SQL script of one schema change in one dialect: each table, then its indexes. */
function renderSql(change: SchemaChange, dialect: Dialect): string {
  return change.tables
    .flatMap((table) => [
      `CREATE TABLE ${table.name} (\n${table.columns.map((c) => `  ${columnSql(c, dialect)}`).join(',\n')}\n);`,
      ...change.indexes
        .filter((index) => index.table === table.name)
        .map((index) => `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${index.name} ON ${index.table} (${index.on});`),
    ])
    .join('\n');
}

export const MIGRATIONS: readonly Migration[] = SCHEMA.map((change) => ({
  version: change.version,
  name: change.name,
  sql: { sqlite: renderSql(change, 'sqlite'), postgres: renderSql(change, 'postgres') },
}));

export const MIGRATIONS_TABLE_SQL = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at_ms BIGINT NOT NULL
)`;

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
