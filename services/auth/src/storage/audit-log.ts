import { ms, type Sql } from './sql';

/** What happened, as stored in audit_events.kind (the API maps each to an AuditEventKind). */
export type AuditEventKind =
  | 'sign_up'
  | 'sign_in_succeeded'
  | 'sign_in_failed'
  | 'second_factor_failed'
  | 'refresh_token_reused'
  | 'password_changed'
  | 'totp_enrolled'
  | 'totp_disabled'
  | 'recovery_code_used'
  | 'roles_changed'
  | 'session_revoked'
  | 'signed_out_everywhere'
  | 'admin_bootstrap'
  | 'user_looked_up';

/** A security event: who did what to whom, from where. */
export interface AuditEventInput {
  readonly kind: AuditEventKind;
  readonly actorId?: string;
  readonly subjectId?: string;
  readonly sessionId?: string;
  readonly peer?: string;
  /** In words; never a secret. */
  readonly detail?: string;
}

export interface AuditEventRecord extends AuditEventInput {
  readonly seq: number;
  readonly atMs: number;
}

type AuditRow = {
  seq: unknown;
  at_ms: unknown;
  kind: string;
  actor_id: string | null;
  subject_id: string | null;
  session_id: string | null;
  peer: string | null;
  detail: string;
};

function eventOf(row: AuditRow): AuditEventRecord {
  const optional = (key: 'actorId' | 'subjectId' | 'sessionId' | 'peer', value: string | null) => (value === null ? {} : { [key]: value });
  return {
    seq: ms(row.seq),
    atMs: ms(row.at_ms),
    kind: row.kind as AuditEventKind,
    ...optional('actorId', row.actor_id),
    ...optional('subjectId', row.subject_id),
    ...optional('sessionId', row.session_id),
    ...optional('peer', row.peer),
    detail: row.detail,
  };
}

/** The append-only audit log (the database refuses UPDATE and DELETE on it). */
export class AuditLog {
  constructor(private readonly db: Sql) {}

  async append(event: AuditEventInput, atMs = Date.now()): Promise<void> {
    await this.db.run(
      'INSERT INTO audit_events (at_ms, kind, actor_id, subject_id, session_id, peer, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [atMs, event.kind, event.actorId ?? null, event.subjectId ?? null, event.sessionId ?? null, event.peer ?? null, event.detail ?? ''],
    );
  }

  /** Up to `limit` events before `beforeSeq` (all when undefined), newest first; only those of `userId` (actor or subject) when set. */
  async page(options: { readonly limit: number; readonly beforeSeq?: number; readonly userId?: string }): Promise<AuditEventRecord[]> {
    const before = options.beforeSeq ?? Number.MAX_SAFE_INTEGER;
    const rows =
      options.userId === undefined
        ? await this.db.all<AuditRow>('SELECT * FROM audit_events WHERE seq < $1 ORDER BY seq DESC LIMIT $2', [before, options.limit])
        : await this.db.all<AuditRow>(
            'SELECT * FROM audit_events WHERE seq < $1 AND (subject_id = $3 OR actor_id = $3) ORDER BY seq DESC LIMIT $2',
            [before, options.limit, options.userId],
          );
    return rows.map(eventOf);
  }
}
