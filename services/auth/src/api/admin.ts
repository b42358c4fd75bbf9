import { auth } from '@orderbook/proto';
import { InvalidFieldError } from '@orderbook/server-kit';
import type { Role } from '@orderbook/token-verifier';
import { validId, validLogin } from '../validation';
import type { Callers } from './caller';
import type { AuthDeps, CallContext } from './deps';
import { authErrors } from './errors';
import { revokedDetail, revokeSessions } from './revoke';
import { auditEventView, PROTO_ROLES, userView } from './views';

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;

const ROLE_OF_PROTO: ReadonlyMap<auth.Role, Role> = new Map(Object.entries(PROTO_ROLES).map(([role, proto]) => [proto, role as Role]));

function validRoles(roles: readonly auth.Role[]): Role[] {
  if (roles.length === 0) throw new InvalidFieldError('roles', 'must name at least one role');
  const decoded = roles.map((role) => ROLE_OF_PROTO.get(role));
  if (decoded.some((role) => role === undefined)) throw new InvalidFieldError('roles', 'must be ROLE_TRADER or ROLE_ADMIN');
  // Stored in one order, so that the same set reads the same.
  return (['trader', 'admin'] as const).filter((role) => decoded.includes(role));
}

/** Page tokens are the sequence number to continue below, base64url: opaque to clients, checked on the way in. */
function pageTokenOf(seq: number): string {
  return Buffer.from(`before:${seq}`).toString('base64url');
}

function beforeSeqOf(token: string): number | undefined {
  if (token === '') return undefined;
  const match = /^before:(\d{1,15})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (match === null) throw authErrors.badPageToken();
  return Number(match[1]);
}

/** What admins do: find users, change roles, read the audit log. */
export class AdminOperations {
  constructor(
    private readonly deps: AuthDeps,
    private readonly callers: Callers,
  ) {}

  async lookupUser(request: auth.LookupUserRequest, ctx: CallContext): Promise<auth.LookupUserResponse> {
    const caller = await this.callers.authenticateAdmin(ctx);
    const user = await this.deps.store.users.byLogin(validLogin(request.login));
    if (user === undefined) throw authErrors.userNotFound('login');
    await this.deps.store.audit.append({ kind: 'user_looked_up', actorId: caller.user.id, subjectId: user.id, sessionId: caller.identity.sessionId, peer: ctx.peer });
    return { user: userView(user, await this.deps.store.secondFactors.totpEnabled(user.id)) };
  }

  async setUserRoles(request: auth.SetUserRolesRequest, ctx: CallContext): Promise<auth.SetUserRolesResponse> {
    const caller = await this.callers.authenticateAdmin(ctx);
    const userId = validId(request.userId, 'user_id');
    const roles = validRoles(request.roles);
    if (userId === caller.user.id) throw authErrors.ownRolesUnchangeable();
    const user = await this.deps.store.users.byId(userId);
    if (user === undefined) throw authErrors.userNotFound('user_id');
    await this.deps.store.users.setRoles(userId, roles);
    // Tokens carry roles: every session ends, so that none keeps working with the old ones.
    const revoked = await revokeSessions(this.deps, { userId });
    await this.deps.store.audit.append({
      kind: 'roles_changed',
      actorId: caller.user.id,
      subjectId: userId,
      sessionId: caller.identity.sessionId,
      peer: ctx.peer,
      detail: `roles: ${user.roles.join(',')} -> ${roles.join(',')}; ${revokedDetail(revoked.length)}`,
    });
    this.deps.logger.info({ adminId: caller.user.id, userId, roles, sessionsRevoked: revoked.length }, 'roles changed');
    return { user: userView({ ...user, roles }, await this.deps.store.secondFactors.totpEnabled(userId)), sessionsRevoked: revoked.length };
  }

  async listAuditEvents(request: auth.ListAuditEventsRequest, ctx: CallContext): Promise<auth.ListAuditEventsResponse> {
    await this.callers.authenticateAdmin(ctx);
    if (request.pageSize < 0 || request.pageSize > MAX_PAGE_SIZE) throw new InvalidFieldError('page_size', `must be between 0 and ${MAX_PAGE_SIZE}`);
    const limit = request.pageSize === 0 ? DEFAULT_PAGE_SIZE : request.pageSize;
    const beforeSeq = beforeSeqOf(request.pageToken);
    const userId = request.userId === '' ? undefined : validId(request.userId, 'user_id');
    // One more than asked tells whether another page follows.
    const events = await this.deps.store.audit.page({
      limit: limit + 1,
      ...(beforeSeq === undefined ? {} : { beforeSeq }),
      ...(userId === undefined ? {} : { userId }),
    });
    const page = events.slice(0, limit);
    const last = page[page.length - 1];
    return { events: page.map(auditEventView), nextPageToken: events.length > limit && last !== undefined ? pageTokenOf(last.seq) : '' };
  }
}
