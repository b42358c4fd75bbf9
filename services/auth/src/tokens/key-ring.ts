import { createPublicKey, KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, importPKCS8, importSPKI, type JWK, type KeyLike } from 'jose';
import { ConfigError, type Logger } from '@orderbook/server-kit';
import { ACCESS_TOKEN_ALGORITHM } from '@orderbook/token-verifier';
import type { Sealer } from '../security/sealing';
import type { SigningKeyStore } from '../storage/signing-key-store';

const DAY_MS = 86_400_000;

/** A public key as GetPublicKeys publishes it (an Ed25519 OKP JWK). */
export interface PublishedKey {
  readonly kid: string;
  /** base64url raw public key. */
  readonly x: string;
}

interface VerificationKey extends PublishedKey {
  readonly publicKey: KeyObject;
}

interface SigningKey extends VerificationKey {
  readonly privateKey: KeyObject;
  /** It signs from then on, until a key with a later activation takes over. */
  readonly activatesAtMs: number;
}

export interface SharedKeyOptions {
  /** How long a new key is published before any instance signs with it (at least every verifier's key-set age). */
  readonly publishLeadMs: number;
  /** How long a replaced key stays published: the access-token lifetime plus clock skew. */
  readonly retentionMs: number;
  /** A key is replaced when it has signed this long; 0 never. */
  readonly rotationDays: number;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
}

export interface FileKeyOptions {
  readonly signingKeyFile: string;
  readonly previousKeyFiles: readonly string[];
  readonly logger: Pick<Logger, 'warn'>;
}

/** Where a shared key ring keeps its keys. */
interface SharedSource {
  readonly store: SigningKeyStore;
  readonly sealer: Sealer;
  readonly options: SharedKeyOptions;
}

/**
 * The keys that sign access tokens and the keys published for verification, by time. Keys are
 * either shared by every instance through the database (private keys sealed with the data key;
 * rotated by scheduling the next key `publishLeadMs` ahead, so verifiers hold it before any token
 * is signed with it) or loaded from files the operator manages.
 */
export class KeyRing {
  private constructor(
    /** Sorted by activation. */
    private signing: SigningKey[],
    /** Keys from AUTH_PREVIOUS_SIGNING_KEY_FILES: published for as long as they are configured. */
    private readonly previousFromFiles: readonly VerificationKey[],
    private readonly shared: SharedSource | undefined,
  ) {}

  /** Keys in the database, shared by every instance; creates the first one if there is none. */
  static async shared(store: SigningKeyStore, sealer: Sealer, options: SharedKeyOptions, nowMs = Date.now()): Promise<KeyRing> {
    const ring = new KeyRing([], [], { store, sealer, options });
    await ring.reload();
    if (ring.signing.length === 0) {
      // Nothing was ever signed: the first key may sign at once. A concurrent first start stores its own first key instead of this one.
      const created = await ring.schedule(nowMs, nowMs, 0);
      if (created !== undefined) options.logger.info({ kid: created }, 'generated the first signing key');
      await ring.reload();
    }
    return ring;
  }

  /** Keys from AUTH_SIGNING_KEY_FILE and AUTH_PREVIOUS_SIGNING_KEY_FILES; never generated or rotated here. */
  static async fromFiles(options: FileKeyOptions): Promise<KeyRing> {
    const current = await signingKeyFromFile(options.signingKeyFile, 'AUTH_SIGNING_KEY_FILE', options.logger);
    const previous = await Promise.all(options.previousKeyFiles.map((file) => verificationKeyFromFile(file, 'AUTH_PREVIOUS_SIGNING_KEY_FILES')));
    return new KeyRing([current], previous, undefined);
  }

  /** The key that signs at nowMs: the one activated last. */
  signingKey(nowMs = Date.now()): { readonly kid: string; readonly privateKey: KeyObject } {
    return this.currentKey(nowMs);
  }

  /** The public key of a published kid. */
  publicKey(kid: string, nowMs = Date.now()): KeyObject | undefined {
    return this.published(nowMs).find((key) => key.kid === kid)?.publicKey;
  }

  /** The signing key first, then keys about to sign, then replaced keys whose tokens may still be valid. */
  publishedKeys(nowMs = Date.now()): PublishedKey[] {
    return this.published(nowMs).map(({ kid, x }) => ({ kid, x }));
  }

  /** How often an instance rereads the shared keys: well inside the publish lead, so it never signs with a key verifiers lack. */
  reloadIntervalMs(): number | undefined {
    if (this.shared === undefined) return undefined;
    return Math.min(30_000, Math.max(250, Math.floor(this.shared.options.publishLeadMs / 4)));
  }

  /** Rereads the shared keys (another instance may have scheduled or purged one). */
  async reload(): Promise<void> {
    if (this.shared === undefined) return;
    const { store, sealer } = this.shared;
    const stored = await store.all();
    this.signing = await Promise.all(
      stored.map(async (key) => {
        const jwk = JSON.parse(sealer.open(key.sealedPrivateKey, sealContext(key.kid))) as JWK;
        return signingKeyOf(ed25519(await importJWK(jwk, ACCESS_TOKEN_ALGORITHM)), key.activatesAtMs);
      }),
    );
  }

  /**
   * Schedules the next key to sign `publishLeadMs` from now, unless one is already scheduled.
   * Resolves to the kid and activation of the key that will sign next.
   */
  async rotate(nowMs = Date.now()): Promise<{ readonly kid: string; readonly activatesAtMs: number }> {
    const shared = this.sharedSource();
    const activatesAtMs = nowMs + shared.options.publishLeadMs;
    const kid = await this.schedule(nowMs, activatesAtMs, nowMs + 1);
    await this.reload();
    if (kid !== undefined) shared.options.logger.info({ kid, activatesAtMs }, 'scheduled the next signing key');
    const next = this.signing.find((key) => key.activatesAtMs > nowMs) ?? this.signing[this.signing.length - 1]!;
    return { kid: next.kid, activatesAtMs: next.activatesAtMs };
  }

  /** Rereads the keys, deletes replaced keys past retention, and schedules the next key when the current one is due. */
  async maintain(nowMs = Date.now()): Promise<void> {
    if (this.shared === undefined) return;
    const { store, options } = this.shared;
    await this.reload();
    const obsolete = this.signing.filter((_, i) => {
      const replacedAt = this.replacedAtMs(i, nowMs);
      return replacedAt !== undefined && replacedAt + options.retentionMs <= nowMs;
    });
    if (obsolete.length > 0) {
      await store.delete(obsolete.map((key) => key.kid));
      options.logger.info({ kids: obsolete.map((key) => key.kid) }, 'deleted signing keys whose tokens have all expired');
    }
    const current = this.currentKey(nowMs);
    const pending = this.signing.some((key) => key.activatesAtMs > nowMs);
    const due = options.rotationDays > 0 && nowMs + options.publishLeadMs >= current.activatesAtMs + options.rotationDays * DAY_MS;
    if (due && !pending) {
      await this.rotate(nowMs);
      return;
    }
    if (obsolete.length > 0) await this.reload();
  }

  private sharedSource(): SharedSource {
    if (this.shared === undefined) {
      throw new ConfigError('keys come from AUTH_SIGNING_KEY_FILE: rotate by replacing that file and listing the old key in AUTH_PREVIOUS_SIGNING_KEY_FILES');
    }
    return this.shared;
  }

  /** Generates and stores a key activating at activatesAtMs unless one activating at or after `unlessFromMs` exists; its kid if stored. */
  private async schedule(nowMs: number, activatesAtMs: number, unlessFromMs: number): Promise<string | undefined> {
    const { store, sealer } = this.sharedSource();
    const { privateKey } = await generateKeyPair(ACCESS_TOKEN_ALGORITHM, { crv: 'Ed25519', extractable: true });
    const key = await signingKeyOf(ed25519(privateKey), activatesAtMs);
    const sealedPrivateKey = sealer.seal(JSON.stringify(await exportJWK(key.privateKey)), sealContext(key.kid));
    const stored = await store.insertUnlessScheduled({ kid: key.kid, createdAtMs: nowMs, activatesAtMs, sealedPrivateKey }, unlessFromMs);
    return stored ? key.kid : undefined;
  }

  /** When the key at `index` stopped signing; undefined while it signs or before it begins. */
  private replacedAtMs(index: number, nowMs: number): number | undefined {
    const next = this.signing[index + 1]?.activatesAtMs;
    return next !== undefined && next <= nowMs ? next : undefined;
  }

  private currentKey(nowMs: number): SigningKey {
    const active = this.signing.filter((key) => key.activatesAtMs <= nowMs);
    const key = active[active.length - 1] ?? this.signing[0];
    if (key === undefined) throw new Error('no signing key loaded');
    return key;
  }

  private published(nowMs: number): VerificationKey[] {
    const retentionMs = this.shared?.options.retentionMs ?? 0;
    const current = this.currentKey(nowMs);
    const pending = this.signing.filter((key) => key.activatesAtMs > nowMs && key !== current);
    const replaced = this.signing
      .filter((_, i) => {
        const replacedAt = this.replacedAtMs(i, nowMs);
        return replacedAt !== undefined && replacedAt + retentionMs > nowMs;
      })
      .reverse();
    return [current, ...pending, ...replaced, ...this.previousFromFiles];
  }
}

function sealContext(kid: string): string {
  return `signing-key:${kid}`;
}

async function signingKeyOf(privateKey: KeyObject, activatesAtMs: number): Promise<SigningKey> {
  const verification = await verificationKeyOf(createPublicKey(privateKey));
  return { ...verification, privateKey, activatesAtMs };
}

async function verificationKeyOf(publicKey: KeyObject): Promise<VerificationKey> {
  const { x } = await exportJWK(publicKey);
  if (x === undefined) throw new Error('not an Ed25519 public key');
  // RFC 7638 thumbprint: the same key gets the same kid on every instance and after every restart.
  const kid = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x });
  return { kid, x, publicKey };
}

/** Keys from AUTH_SIGNING_KEY_FILE: PKCS#8 PEM or a private JWK. */
async function signingKeyFromFile(file: string, variable: string, logger: Pick<Logger, 'warn'>): Promise<SigningKey> {
  const key = await keyFromFile(file, variable);
  if (key.type !== 'private') throw new ConfigError(`${variable}: ${file} holds a public key; a private key is needed to sign`);
  const { mode } = await stat(file);
  if ((mode & 0o077) !== 0) logger.warn({ file, mode: (mode & 0o777).toString(8) }, 'private key file is readable by other users: chmod 600 it');
  return signingKeyOf(key, 0);
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
