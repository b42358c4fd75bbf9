import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@orderbook/server-kit';
import { openPostgresStore } from './postgres-store';
import { openSqliteStore } from './sqlite-store';
import type { UserStore } from './user-store';

/** PostgreSQL when a connection string is configured, else SQLite at `<dataDir>/auth.db`. */
export async function openUserStore(options: {
  readonly dataDir: string;
  readonly databaseUrl?: string;
  readonly logger: Logger;
}): Promise<UserStore> {
  if (options.databaseUrl !== undefined) {
    return openPostgresStore({ connectionString: options.databaseUrl, logger: options.logger });
  }
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  return openSqliteStore(join(options.dataDir, 'auth.db'));
}
