import { createPublicKey, KeyObject } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, importPKCS8, importSPKI, type JWK, type KeyLike } from 'jose';
import { ConfigError, type Logger } from '@orderbook/server-kit';
import { ACCESS_TOKEN_ALGORITHM } from '@orderbook/token-verifier';

/** Generated keys live here, in AUTH_DATA_DIR (mode 0600). */
export const KEY_FILE_NAME = 'signing-keys.json';

const DAY_MS = 86_400_000;

/** A public key as GetPublicKeys publishes it (an Ed25519 OKP JWK). */
export interface PublishedKey {
  readonly kid: string;
  /** base64url raw public key. */
  readonly x: string;
}

interface VerificationKey extends PublishedKey {
  readonly publicKey: KeyObject;
  /** When it stopped signing; absent for keys from AUTH_PREVIOUS_SIGNING_KEY_FILES (kept as long as configured). */
  readonly retiredAtMs?: number;
}

interface SigningKey extends VerificationKey {
  readonly privateKey: KeyObject;
  readonly createdAtMs: number;
}

/** signing-keys.json: the current key (retiredAtMs null) and retired ones still published. */
interface KeyFileEntry {
  kid: string;
  createdAtMs: number;
  retiredAtMs: number | null;
  privateJwk: JWK;
}

export interface KeyRingOptions {
  readonly dataDir: string;
  readonly signingKeyFile?: string;
  readonly previousKeyFiles: readonly string[];
  /** Generated keys are replaced when this old; 0 never. */
  readonly rotationDays: number;
  /** How long a retired key stays published: at least the access-token lifetime plus clock skew. */
  readonly retentionMs: number;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
}

/**
 * The signing key and the keys still published for verification. Keys are either generated and
 * persisted in the data directory (and rotated by age or on demand), or loaded from configured
 * files (rotated by the operator replacing the files).
 */
export class KeyRing {
  private constructor(
    private current: SigningKey,
    private previous: VerificationKey[],
    private readonly options: KeyRingOptions,
    /** Set when keys are generated: where they persist. */
    private readonly file: string | undefined,
  ) {}

  static async load(options: KeyRingOptions, nowMs = Date.now()): Promise<KeyRing> {
    if (options.signingKeyFile !== undefined) {
      const current = await signingKeyFromFile(options.signingKeyFile, 'AUTH_SIGNING_KEY_FILE', options.logger);
      const previous = await Promise.all(
        options.previousKeyFiles.map((file) => verificationKeyFromFile(file, 'AUTH_PREVIOUS_SIGNING_KEY_FILES')),
      );
      return new KeyRing(current, previous, options, undefined);
    }
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    const file = join(options.dataDir, KEY_FILE_NAME);
    const entries = await readKeyFile(file, options.logger);
    if (entries === undefined) {
      const ring = new KeyRing(await generateSigningKey(nowMs), [], options, file);
      await ring.persist();
      options.logger.info({ kid: ring.current.kid, file }, 'generated a signing key');
      return ring;
    }
    const keys = await Promise.all(entries.map(fromFileEntry));
    const current = keys.find((key) => key.retiredAtMs === undefined);
    if (current === undefined) throw new Error(`${file}: no current signing key (every key is retired)`);
    const ring = new KeyRing(current, keys.filter((key) => key !== current).sort(newestRetiredFirst), options, file);
    await ring.maintain(nowMs);
    return ring;
  }

  /** The key new tokens are signed with. */
  signingKey(): { readonly kid: string; readonly privateKey: KeyObject } {
    return this.current;
  }

  /** The public key of a published kid. */
  publicKey(kid: string, nowMs = Date.now()): KeyObject | undefined {
    return this.published(nowMs).find((key) => key.kid === kid)?.publicKey;
  }

  /** Current key first, then previous keys whose tokens may still be valid. */
  publishedKeys(nowMs = Date.now()): PublishedKey[] {
    return this.published(nowMs).map(({ kid, x }) => ({ kid, x }));
  }

  /** Drops retired keys past retention and rotates a generated key that reached its age. Returns whether it rotated. */
  async maintain(nowMs = Date.now()): Promise<boolean> {
    if (this.file === undefined) return false;
    const kept = this.published(nowMs).slice(1);
    const purged = kept.length !== this.previous.length;
    this.previous = kept;
    const due = this.options.rotationDays > 0 && nowMs - this.current.createdAtMs >= this.options.rotationDays * DAY_MS;
    if (due) {
      await this.rotate(nowMs);
      return true;
    }
    if (purged) await this.persist();
    return false;
  }

  /** Starts signing with a fresh generated key; the old one stays published for the retention period. */
  async rotate(nowMs = Date.now()): Promise<void> {
    if (this.file === undefined) {
      throw new ConfigError('keys come from AUTH_SIGNING_KEY_FILE: rotate by replacing that file and listing the old key in AUTH_PREVIOUS_SIGNING_KEY_FILES');
    }
    const retired: SigningKey = { ...this.current, retiredAtMs: nowMs };
    this.current = await generateSigningKey(nowMs);
    this.previous = [retired, ...this.previous];
    await this.persist();
    this.options.logger.info({ kid: this.current.kid, retiredKid: retired.kid }, 'rotated the signing key');
  }

  private published(nowMs: number): VerificationKey[] {
    const live = this.previous.filter((key) => key.retiredAtMs === undefined || key.retiredAtMs + this.options.retentionMs > nowMs);
    return [this.current, ...live];
  }

  private async persist(): Promise<void> {
    if (this.file === undefined) return;
    const signing = [this.current, ...this.previous].filter((key): key is SigningKey => 'privateKey' in key);
    const entries = await Promise.all(
      signing.map(async (key): Promise<KeyFileEntry> => ({
        kid: key.kid,
        createdAtMs: key.createdAtMs,
        retiredAtMs: key.retiredAtMs ?? null,
        privateJwk: await exportJWK(key.privateKey),
      })),
    );
    await writePrivateFile(this.file, `${JSON.stringify({ keys: entries }, null, 2)}\n`);
  }
}

function newestRetiredFirst(a: VerificationKey, b: VerificationKey): number {
  return (b.retiredAtMs ?? 0) - (a.retiredAtMs ?? 0);
}

async function generateSigningKey(nowMs: number): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(ACCESS_TOKEN_ALGORITHM, { crv: 'Ed25519', extractable: true });
  return signingKeyOf(ed25519(privateKey), nowMs);
}

async function signingKeyOf(privateKey: KeyObject, createdAtMs: number, retiredAtMs?: number): Promise<SigningKey> {
  const verification = await verificationKeyOf(createPublicKey(privateKey));
  return { ...verification, privateKey, createdAtMs, ...(retiredAtMs === undefined ? {} : { retiredAtMs }) };
}

async function verificationKeyOf(publicKey: KeyObject): Promise<VerificationKey> {
  const { x } = await exportJWK(publicKey);
  if (x === undefined) throw new Error('not an Ed25519 public key');
  // RFC 7638 thumbprint: the same key gets the same kid on every instance and after every restart.
  const kid = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x });
  return { kid, x, publicKey };
}

async function fromFileEntry(entry: KeyFileEntry): Promise<SigningKey> {
  const privateKey = ed25519(await importJWK(entry.privateJwk, ACCESS_TOKEN_ALGORITHM));
  if (privateKey.type !== 'private') throw new Error(`key ${entry.kid} is not a private key`);
  return signingKeyOf(privateKey, entry.createdAtMs, entry.retiredAtMs ?? undefined);
}

async function readKeyFile(file: string, logger: Pick<Logger, 'warn'>): Promise<KeyFileEntry[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  await warnIfReadableByOthers(file, logger);
  // A damaged file stops start-up: silently generating a new key would invalidate every issued token.
  const parsed = JSON.parse(text) as { keys?: unknown };
  if (!Array.isArray(parsed.keys) || parsed.keys.length === 0) throw new Error(`${file}: expected {"keys": [...]}`);
  return parsed.keys as KeyFileEntry[];
}

/** Keys from AUTH_SIGNING_KEY_FILE: PKCS#8 PEM or a private JWK. */
async function signingKeyFromFile(file: string, variable: string, logger: Pick<Logger, 'warn'>): Promise<SigningKey> {
  const key = await keyFromFile(file, variable);
  if (key.type !== 'private') throw new ConfigError(`${variable}: ${file} holds a public key; a private key is needed to sign`);
  await warnIfReadableByOthers(file, logger);
  return signingKeyOf(key, (await stat(file)).mtimeMs);
}

async function verificationKeyFromFile(file: string, variable: string): Promise<VerificationKey> {
  const key = await keyFromFile(file, variable);
  return verificationKeyOf(key.type === 'private' ? createPublicKey(key) : key);
}

async function keyFromFile(file: string, variable: string): Promise<KeyObject> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (err) {
    throw new ConfigError(`${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return ed25519(
      text.startsWith('{')
        ? await importJWK(JSON.parse(text) as JWK, ACCESS_TOKEN_ALGORITHM)
        : text.includes('PUBLIC KEY')
          ? await importSPKI(text, ACCESS_TOKEN_ALGORITHM)
          : await importPKCS8(text, ACCESS_TOKEN_ALGORITHM),
    );
  } catch {
    throw new ConfigError(`${variable}: ${file} is not an Ed25519 key in PEM (PKCS#8 or SPKI) or JWK form`);
  }
}

/** jose hands back KeyObjects on Node; anything else (a symmetric secret, another curve) is not a signing key here. */
function ed25519(key: KeyLike | Uint8Array): KeyObject {
  if (!(key instanceof KeyObject) || key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
  return key;
}

async function warnIfReadableByOthers(file: string, logger: Pick<Logger, 'warn'>): Promise<void> {
  const { mode } = await stat(file);
  if ((mode & 0o077) !== 0) logger.warn({ file, mode: (mode & 0o777).toString(8) }, 'private key file is readable by other users: chmod 600 it');
}

/** Writes via a fresh 0600 temp file and rename, so a crash never leaves a half-written key file. */
async function writePrivateFile(file: string, contents: string): Promise<void> {
  const temp = `${file}.tmp`;
  await unlink(temp).catch(() => undefined);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(contents);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}
