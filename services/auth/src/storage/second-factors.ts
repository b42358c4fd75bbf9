import { msOrNull, ms, type SqlDatabase } from './sql';

export interface TotpFactorRecord {
  readonly userId: string;
  /** The base32 secret, sealed with AUTH_ENCRYPTION_KEY. */
  readonly sealedSecret: string;
  readonly createdAtMs: number;
  /** Null while the enrolment waits for its first code. */
  readonly confirmedAtMs: number | null;
  /** The newest time step a code was accepted for (-1 for none). */
  readonly lastTimeStep: number;
}

type FactorRow = { user_id: string; sealed_secret: string; created_at_ms: unknown; confirmed_at_ms: unknown; last_time_step: unknown };

/** TOTP factors and recovery codes. */
export class SecondFactors {
  constructor(private readonly db: SqlDatabase) {}

  async totp(userId: string): Promise<TotpFactorRecord | undefined> {
    const row = await this.db.get<FactorRow>('SELECT * FROM totp_factors WHERE user_id = $1', [userId]);
    if (row === undefined) return undefined;
    return {
      userId: row.user_id,
      sealedSecret: row.sealed_secret,
      createdAtMs: ms(row.created_at_ms),
      confirmedAtMs: msOrNull(row.confirmed_at_ms),
      lastTimeStep: Number(row.last_time_step),
    };
  }

  /** Whether the user has a confirmed TOTP factor. */
  async totpEnabled(userId: string): Promise<boolean> {
    const row = await this.db.get('SELECT 1 AS one FROM totp_factors WHERE user_id = $1 AND confirmed_at_ms IS NOT NULL', [userId]);
    return row !== undefined;
  }

  /** Stores a new pending secret, replacing a pending one; false (nothing stored) if a confirmed factor exists. */
  async savePending(userId: string, sealedSecret: string, nowMs: number): Promise<boolean> {
    const changed = await this.db.run(
      `INSERT INTO totp_factors (user_id, sealed_secret, created_at_ms, confirmed_at_ms, last_time_step) VALUES ($1, $2, $3, NULL, -1)
       ON CONFLICT (user_id) DO UPDATE SET sealed_secret = excluded.sealed_secret, created_at_ms = excluded.created_at_ms, last_time_step = -1
       WHERE totp_factors.confirmed_at_ms IS NULL`,
      [userId, sealedSecret, nowMs],
    );
    return changed === 1;
  }

  /**
   * Records that a code of `timeStep` was accepted for the factor whose secret is `sealedSecret`,
   * if no code of that step or a later one was: false means a replay (or a secret replaced
   * meanwhile). With `confirmAtMs`, also activates a pending factor.
   */
  async acceptTimeStep(factor: Pick<TotpFactorRecord, 'userId' | 'sealedSecret'>, timeStep: number, confirmAtMs?: number): Promise<boolean> {
    const changed = await this.db.run(
      `UPDATE totp_factors SET last_time_step = $3, confirmed_at_ms = COALESCE(confirmed_at_ms, $4)
       WHERE user_id = $1 AND sealed_secret = $2 AND last_time_step < $3`,
      [factor.userId, factor.sealedSecret, timeStep, confirmAtMs ?? null],
    );
    return changed === 1;
  }

  /** Replaces the user's recovery codes with these (hashed) ones. */
  async replaceRecoveryCodes(userId: string, codeHashes: readonly string[], nowMs: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run('DELETE FROM recovery_codes WHERE user_id = $1', [userId]);
      for (const hash of codeHashes) {
        await tx.run('INSERT INTO recovery_codes (code_hash, user_id, created_at_ms) VALUES ($1, $2, $3)', [hash, userId, nowMs]);
      }
    });
  }

  /** Spends an unused recovery code of the user; false if there is none with that hash. */
  async spendRecoveryCode(userId: string, codeHash: string, nowMs: number): Promise<boolean> {
    const changed = await this.db.run(
      'UPDATE recovery_codes SET used_at_ms = $3 WHERE code_hash = $1 AND user_id = $2 AND used_at_ms IS NULL',
      [codeHash, userId, nowMs],
    );
    return changed === 1;
  }

  /** Removes the TOTP factor and the recovery codes. */
  async remove(userId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run('DELETE FROM totp_factors WHERE user_id = $1', [userId]);
      await tx.run('DELETE FROM recovery_codes WHERE user_id = $1', [userId]);
    });
  }
}
