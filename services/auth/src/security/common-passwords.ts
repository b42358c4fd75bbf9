import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageDir } from '@orderbook/server-kit';

/** The bundled list (see the file's header for its source and licence). */
const LIST_FILE = join(packageDir(__dirname), 'src', 'security', 'common-passwords.txt');

let list: ReadonlySet<string> | undefined;

/** Whether a lower-cased password is on the bundled common-password list (loaded on first use). */
export function isCommonPassword(lowerCased: string): boolean {
  list ??= new Set(
    readFileSync(LIST_FILE, 'utf8')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
  return list.has(lowerCased);
}
