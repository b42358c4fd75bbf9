import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, type Logger } from '@orderbook/server-kit';

/** Generated for the embedded default (SQLite, no AUTH_ENCRYPTION_KEY) in AUTH_DATA_DIR, mode 0600. */
export const ENCRYPTION_KEY_FILE_NAME = 'encryption.key';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';

/** A sealed value that does not open: wrong key, wrong context, or tampered with. */
export class UnsealError extends Error {
  override readonly name = 'UnsealError';
}

/**
 * Encrypts secrets kept at rest (signing keys, TOTP secrets, a rotation's answer for the reuse
 * grace period) with AES-256-GCM under the data key. The context (e.g. "totp:<user id>") is
 * authenticated data: a sealed value copied to another row or purpose does not open.
 */
export class Sealer {
  constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error(`the data key must be ${KEY_BYTES} bytes`);
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url')}`;
  }

  open(sealed: string, context: string): string {
    const [version, body] = sealed.split('.');
    if (version !== VERSION || body === undefined) throw new UnsealError('not a sealed value of this service');
    const bytes = Buffer.from(body, 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new UnsealError('sealed value is truncated');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new UnsealError('sealed value does not open with this key (AUTH_ENCRYPTION_KEY changed?) or was altered');
    }
  }
}

/** AUTH_ENCRYPTION_KEY: base64 of 32 bytes (`openssl rand -base64 32`). */
export function parseEncryptionKey(value: string): Buffer {
  const key = Buffer.from(value, 'base64');
  if (key.length !== KEY_BYTES || key.toString('base64').replace(/=+$/, '') !== value.replace(/=+$/, '')) {
    throw new ConfigError(`AUTH_ENCRYPTION_KEY: expected base64 of ${KEY_BYTES} random bytes (openssl rand -base64 32)`);
  }
  return key;
}

/**
 * The data key: from AUTH_ENCRYPTION_KEY when set (required when instances share a database),
 * else generated once into the data directory (embedded default).
 */
export async function loadDataKey(options: {
  readonly configured?: Buffer;
  readonly dataDir: string;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
}): Promise<Buffer> {
  if (options.configured !== undefined) return options.configured;
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const file = join(options.dataDir, ENCRYPTION_KEY_FILE_NAME);
  try {
    const handle = await open(file, 'wx', 0o600);
    const key = randomBytes(KEY_BYTES);
    try {
      await handle.writeFile(key.toString('base64'));
      await handle.sync();
    } finally {
      await handle.close();
    }
    options.logger.info({ file }, 'generated the data encryption key');
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if (((await stat(file)).mode & 0o077) !== 0) options.logger.warn({ file }, 'encryption key file is readable by other users: chmod 600 it');
  const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
  // A damaged key file stops start-up: a new key would make every sealed secret unreadable.
  if (key.length !== KEY_BYTES) throw new Error(`${file}: expected base64 of ${KEY_BYTES} bytes; restore it (a new key cannot open what the old one sealed)`);
  return key;
}
