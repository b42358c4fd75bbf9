import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@orderbook/server-kit';
import { AuditLog } from './audit-log';
import { openPostgresDatabase } from './postgres-database';
import { RevocationLog } from './revocation-log';
import { SecondFactors } from './second-factors';
import { Sessions } from './sessions';
import { SigningKeyStore } from './signing-key-store';
import type { SqlDatabase } from './sql';
import { openSqliteDatabase } from './sqlite-database';
import { Users } from './users';

/** Everything auth keeps, in one database: SQLite (embedded default) or PostgreSQL (several instances). */
export interface AuthStore {
  readonly db: SqlDatabase;
  readonly users: Users;
  readonly sessions: Sessions;
  readonly revocations: RevocationLog;
  readonly signingKeys: SigningKeyStore;
  readonly secondFactors: SecondFactors;
  readonly audit: AuditLog;
  close(): Promise<void>;
}

export interface AuthStoreOptions {
  /** PostgreSQL when set, else SQLite at `<dataDir>/auth.db`. */
  readonly databaseUrl?: string;
  /** A PostgreSQL schema to use instead of the connection's search_path (tests). */
  readonly schema?: string;
  readonly dataDir: string;
  /** How long a revocation matters: the access-token lifetime plus clock skew. */
  readonly revocationRelevanceMs: number;
  readonly logger?: Pick<Logger, 'error'>;
}

function storeOver(db: SqlDatabase, revocationRelevanceMs: number): AuthStore {
  return {
    db,
    users: new Users(db),
    sessions: new Sessions(db, { revocationRelevanceMs }),
    revocations: new RevocationLog(db),
    signingKeys: new SigningKeyStore(db),
    secondFactors: new SecondFactors(db),
    audit: new AuditLog(db),
    close: () => db.close(),
  };
}

/** Opens and migrates the configured database. */
export async function openAuthStore(options: AuthStoreOptions): Promise<AuthStore> {
  if (options.databaseUrl !== undefined) {
    const db = await openPostgresDatabase({
      connectionString: options.databaseUrl,
      ...(options.schema === undefined ? {} : { schema: options.schema }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    return storeOver(db, options.revocationRelevanceMs);
  }
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  return storeOver(await openSqliteDatabase(join(options.dataDir, 'auth.db')), options.revocationRelevanceMs);
}
