import { ms, type SqlDatabase } from './sql';

/** A signing key as stored: its private key sealed with AUTH_ENCRYPTION_KEY. */
export interface StoredSigningKey {
  readonly kid: string;
  readonly createdAtMs: number;
  /** It signs from then on (until a key with a later activation takes over); it is published from creation. */
  readonly activatesAtMs: number;
  readonly sealedPrivateKey: string;
}

type KeyRow = { kid: string; created_at_ms: unknown; activates_at_ms: unknown; sealed_private_key: string };

/** Serialises key creation across instances: two instances never schedule two keys at once. */
const KEY_CREATION_LOCK = 7_230_455_002;

/** The signing keys every instance shares (PostgreSQL or SQLite). */
export class SigningKeyStore {
  constructor(private readonly db: SqlDatabase) {}

  /** Every stored key, by activation. */
  async all(): Promise<StoredSigningKey[]> {
    const rows = await this.db.all<KeyRow>('SELECT * FROM signing_keys ORDER BY activates_at_ms, kid');
    return rows.map((row) => ({
      kid: row.kid,
      createdAtMs: ms(row.created_at_ms),
      activatesAtMs: ms(row.activates_at_ms),
      sealedPrivateKey: row.sealed_private_key,
    }));
  }

  /**
   * Stores `key` unless a key activating at or after `unlessActivatingFromMs` exists (one that is
   * pending, or, for the first key, any key at all). Returns whether it was stored.
   */
  async insertUnlessScheduled(key: StoredSigningKey, unlessActivatingFromMs: number): Promise<boolean> {
    return this.db.transaction(
      async (tx) => {
        const scheduled = await tx.get('SELECT kid FROM signing_keys WHERE activates_at_ms >= $1', [unlessActivatingFromMs]);
        if (scheduled !== undefined) return false;
        await tx.run('INSERT INTO signing_keys (kid, created_at_ms, activates_at_ms, sealed_private_key) VALUES ($1, $2, $3, $4)', [
          key.kid,
          key.createdAtMs,
          key.activatesAtMs,
          key.sealedPrivateKey,
        ]);
        return true;
      },
      { advisoryLock: KEY_CREATION_LOCK },
    );
  }

  async delete(kids: readonly string[]): Promise<void> {
    for (const kid of kids) await this.db.run('DELETE FROM signing_keys WHERE kid = $1', [kid]);
  }
}
