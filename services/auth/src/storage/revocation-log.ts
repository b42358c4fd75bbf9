import { ms, type Sql } from './sql';

/** A revoked session, as WatchRevocations sends it. */
export interface RevocationRecord {
  readonly seq: number;
  readonly sessionId: string;
  readonly revokedAtMs: number;
  /** When the session's last access token expires (clock skew included): verifiers may forget it after. */
  readonly relevantUntilMs: number;
}

type RevocationRow = { seq: unknown; session_id: string; revoked_at_ms: unknown; relevant_until_ms: unknown };

function revocationOf(row: RevocationRow): RevocationRecord {
  return { seq: ms(row.seq), sessionId: row.session_id, revokedAtMs: ms(row.revoked_at_ms), relevantUntilMs: ms(row.relevant_until_ms) };
}

/** The table name, for TransactionOptions.appendOrdered: appends become visible in seq order. */
export const REVOCATIONS_TABLE = 'revocations';

/** Records revoked sessions; call inside a transaction opened with appendOrdered: [REVOCATIONS_TABLE]. */
export async function appendRevocations(tx: Sql, sessionIds: readonly string[], revokedAtMs: number, relevantUntilMs: number): Promise<void> {
  for (const sessionId of sessionIds) {
    await tx.run('INSERT INTO revocations (session_id, revoked_at_ms, relevant_until_ms) VALUES ($1, $2, $3)', [
      sessionId,
      revokedAtMs,
      relevantUntilMs,
    ]);
  }
}

/** Reads the revocations that verifiers must know of. */
export class RevocationLog {
  constructor(private readonly db: Sql) {}

  /** Revocations after seq that still matter at nowMs, in seq order. */
  async after(seq: number, nowMs: number): Promise<RevocationRecord[]> {
    const rows = await this.db.all<RevocationRow>(
      'SELECT * FROM revocations WHERE seq > $1 AND relevant_until_ms > $2 ORDER BY seq',
      [seq, nowMs],
    );
    return rows.map(revocationOf);
  }

  /** Deletes revocations that no longer matter at nowMs; returns how many. */
  purge(nowMs: number): Promise<number> {
    return this.db.run('DELETE FROM revocations WHERE relevant_until_ms <= $1', [nowMs]);
  }
}
