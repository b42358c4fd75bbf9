import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** Two processes appending to one journal would interleave records and corrupt it. */
export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';
}

export interface DataDirLock {
  release(): Promise<void>;
}

/** The lock file: a SQLite database that nothing is ever written to; only its lock matters. */
export const LOCK_FILE = 'LOCK.sqlite';
/** What older versions used (a pid in a file); removed once the directory is ours. */
const LEGACY_LOCK_FILE = 'LOCK';

/**
 * Takes the data directory for this process: an exclusive SQLite transaction on LOCK.sqlite, that
 * is, POSIX advisory locks (fcntl) on an open descriptor, which the kernel drops when the process
 * dies however it dies. Nothing identifies the holder by pid, so a restart that gets the pid of
 * the killed process (a container's PID 1) starts, and a second live process is refused at once.
 * SQLite (already the auth store's engine) is used instead of a flock binding because it is a
 * maintained native package we build anyway, and it keeps POSIX locks correctly when other
 * connections in the same process open the same file.
 */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const path = join(dir, LOCK_FILE);
  const db = new Database(path, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new DataDirInUseError(
        `${dir} is in use by another running process (it holds the lock on ${path}); one matching service per data directory`,
      );
    }
    throw err;
  }
  await unlink(join(dir, LEGACY_LOCK_FILE)).catch(() => undefined);
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      db.close();
    },
  };
}
