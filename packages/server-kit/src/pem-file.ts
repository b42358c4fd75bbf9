import { readFileSync } from 'node:fs';
import { ConfigError } from './config-table';

/** A TLS file's bytes; ConfigError naming the path and the system's reason when it cannot be read. */
export function readPemFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`TLS: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}
