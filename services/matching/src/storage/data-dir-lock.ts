import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Two processes appending to one journal would interleave records and corrupt it. */
export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';
}

export interface DataDirLock {
  release(): Promise<void>;
}

/**
 * Takes the data directory for this process: a LOCK file holding our pid. A lock left by a process
 * that no longer runs (killed, crashed) is taken over, so recovery after SIGKILL needs no cleanup.
 */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const path = join(dir, 'LOCK');
  for (;;) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return { release: () => unlink(path).catch(() => undefined) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isSafeInteger(holder) && holder > 0 && isRunning(holder)) {
      throw new DataDirInUseError(`${dir} is in use by process ${holder} (remove ${path} only if that process is not a matching service)`);
    }
    await unlink(path).catch(() => undefined);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
