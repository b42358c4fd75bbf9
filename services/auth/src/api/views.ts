import { auth } from '@orderbook/proto';
import type { Role } from '@orderbook/token-verifier';
import type { AuditEventKind, AuditEventRecord } from '../storage/audit-log';
import type { SessionRecord } from '../storage/sessions';
import type { UserRecord } from '../storage/users';
import type { IssuedPair } from '../tokens/refresh-tokens';

/** Records as the API shows them. */

export const PROTO_ROLES: Readonly<Record<Role, auth.Role>> = { trader: auth.Role.ROLE_TRADER, admin: auth.Role.ROLE_ADMIN };

export function userView(user: UserRecord, totpEnabled: boolean): auth.User {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    roles: user.roles.map((role) => PROTO_ROLES[role]),
    createdAtUnixMs: BigInt(user.createdAtMs),
    totpEnabled,
  };
}

export function tokenPairView(pair: IssuedPair): auth.TokenPair {
  return {
    accessToken: pair.accessToken,
    accessTokenExpiresAtUnixMs: BigInt(pair.accessTokenExpiresAtMs),
    refreshToken: pair.refreshToken,
    refreshTokenExpiresAtUnixMs: BigInt(pair.refreshTokenExpiresAtMs),
    tokenType: 'Bearer',
  };
}

export function sessionView(session: SessionRecord, currentSessionId: string): auth.Session {
  return {
    sessionId: session.id,
    createdAtUnixMs: BigInt(session.createdAtMs),
    lastUsedAtUnixMs: BigInt(session.lastUsedAtMs),
    expiresAtUnixMs: BigInt(session.expiresAtMs),
    peer: session.peer,
    userAgent: session.userAgent,
    current: session.id === currentSessionId,
    secondFactor: session.secondFactor,
  };
}

const AUDIT_KINDS: Readonly<Record<AuditEventKind, auth.AuditEventKind>> = {
  sign_up: auth.AuditEventKind.AUDIT_EVENT_KIND_SIGN_UP,
  sign_in_succeeded: auth.AuditEventKind.AUDIT_EVENT_KIND_SIGN_IN_SUCCEEDED,
  sign_in_failed: auth.AuditEventKind.AUDIT_EVENT_KIND_SIGN_IN_FAILED,
  second_factor_failed: auth.AuditEventKind.AUDIT_EVENT_KIND_SECOND_FACTOR_FAILED,
  refresh_token_reused: auth.AuditEventKind.AUDIT_EVENT_KIND_REFRESH_TOKEN_REUSED,
  password_changed: auth.AuditEventKind.AUDIT_EVENT_KIND_PASSWORD_CHANGED,
  totp_enrolled: auth.AuditEventKind.AUDIT_EVENT_KIND_TOTP_ENROLLED,
  totp_disabled: auth.AuditEventKind.AUDIT_EVENT_KIND_TOTP_DISABLED,
  recovery_code_used: auth.AuditEventKind.AUDIT_EVENT_KIND_RECOVERY_CODE_USED,
  roles_changed: auth.AuditEventKind.AUDIT_EVENT_KIND_ROLES_CHANGED,
  session_revoked: auth.AuditEventKind.AUDIT_EVENT_KIND_SESSION_REVOKED,
  signed_out_everywhere: auth.AuditEventKind.AUDIT_EVENT_KIND_SIGNED_OUT_EVERYWHERE,
  admin_bootstrap: auth.AuditEventKind.AUDIT_EVENT_KIND_ADMIN_BOOTSTRAP,
  user_looked_up: auth.AuditEventKind.AUDIT_EVENT_KIND_USER_LOOKED_UP,
};

export function auditEventView(event: AuditEventRecord): auth.AuditEvent {
  return {
    sequence: BigInt(event.seq),
    atUnixMs: BigInt(event.atMs),
    kind: AUDIT_KINDS[event.kind] ?? auth.AuditEventKind.AUDIT_EVENT_KIND_UNSPECIFIED,
    actorUserId: event.actorId ?? '',
    subjectUserId: event.subjectId ?? '',
    sessionId: event.sessionId ?? '',
    peer: event.peer ?? '',
    detail: event.detail ?? '',
  };
}
