import type { auth } from '@orderbook/proto';
import { validId, validPasswordInput, validRefreshToken } from '../validation';
import type { Callers } from './caller';
import type { AuthDeps, CallContext } from './deps';
import { authErrors } from './errors';
import type { ThrottledChecks } from './password-check';
import { revokedDetail, revokeSessions } from './revoke';
import type { SecondFactorOperations } from './second-factor';
import type { SessionTokens } from './session-tokens';
import { newPassword } from './sign-in';
import { sessionView, tokenPairView, userView } from './views';

/** What a signed-in user does with their account and sessions, and the refresh-token exchange. */
export class AccountOperations {
  constructor(
    private readonly deps: AuthDeps,
    private readonly callers: Callers,
    private readonly checks: ThrottledChecks,
    private readonly factors: SecondFactorOperations,
    private readonly tokens: SessionTokens,
  ) {}

  async getMe(ctx: CallContext): Promise<auth.GetMeResponse> {
    const { user } = await this.callers.authenticate(ctx);
    return { user: userView(user, await this.factors.enabled(user.id)) };
  }

  async refreshToken(request: auth.RefreshTokenRequest, ctx: CallContext): Promise<auth.RefreshTokenResponse> {
    const result = await this.deps.refreshTokens.rotate(validRefreshToken(request.refreshToken), this.tokens.accessTokenFor);
    switch (result.kind) {
      case 'invalid':
        throw authErrors.refreshRejected();
      case 'reused':
        if (result.revoked.length > 0) this.deps.feed.poke();
        await this.deps.store.audit.append({ kind: 'refresh_token_reused', subjectId: result.userId, sessionId: result.sessionId, peer: ctx.peer });
        this.deps.logger.warn({ userId: result.userId, sessionId: result.sessionId }, 'spent refresh token reused: session revoked');
        throw authErrors.refreshReused();
      case 'rotated':
      case 'replayed':
        return { tokens: tokenPairView(result.pair) };
    }
  }

  async signOut(request: auth.SignOutRequest, ctx: CallContext): Promise<auth.SignOutResponse> {
    const token = validRefreshToken(request.refreshToken);
    const found = await this.deps.refreshTokens.revokeSessionOf(token);
    if (found === undefined) throw authErrors.refreshRejected();
    if (found.revoked.length > 0) {
      this.deps.feed.poke();
      await this.deps.store.audit.append({ kind: 'session_revoked', actorId: found.userId, subjectId: found.userId, sessionId: found.revoked[0], peer: ctx.peer, detail: 'signed out' });
    }
    return {};
  }

  async changePassword(request: auth.ChangePasswordRequest, ctx: CallContext): Promise<auth.ChangePasswordResponse> {
    const caller = await this.callers.authenticate(ctx);
    const current = validPasswordInput(request.currentPassword, 'current_password');
    const next = newPassword(request.newPassword, 'new_password', { username: caller.user.username, email: caller.user.email });
    if (next === current) throw authErrors.passwordUnchanged();
    await this.checks.password(
      { user: caller.user, login: caller.user.username, ctx, auditKind: 'sign_in_failed', failure: () => authErrors.passwordIncorrect('current_password') },
      current,
    );
    await this.deps.store.users.setPasswordHash(caller.user.id, await this.deps.passwords.hash(next));
    const revoked = await revokeSessions(this.deps, { userId: caller.user.id, exceptSessionId: caller.identity.sessionId });
    await this.deps.store.audit.append({
      kind: 'password_changed',
      actorId: caller.user.id,
      subjectId: caller.user.id,
      sessionId: caller.identity.sessionId,
      peer: ctx.peer,
      detail: revokedDetail(revoked.length, 'other session'),
    });
    return { sessionsRevoked: revoked.length };
  }

  async listSessions(ctx: CallContext): Promise<auth.ListSessionsResponse> {
    const caller = await this.callers.authenticate(ctx);
    const sessions = await this.deps.store.sessions.live(caller.user.id, Date.now());
    return { sessions: sessions.map((session) => sessionView(session, caller.identity.sessionId)) };
  }

  async revokeSession(request: auth.RevokeSessionRequest, ctx: CallContext): Promise<auth.RevokeSessionResponse> {
    const caller = await this.callers.authenticate(ctx);
    const sessionId = validId(request.sessionId, 'session_id');
    const revoked = await revokeSessions(this.deps, { sessionId, userId: caller.user.id });
    if (revoked.length === 0) throw authErrors.sessionNotFound();
    await this.deps.store.audit.append({ kind: 'session_revoked', actorId: caller.user.id, subjectId: caller.user.id, sessionId, peer: ctx.peer });
    return {};
  }

  async signOutEverywhere(ctx: CallContext): Promise<auth.SignOutEverywhereResponse> {
    const caller = await this.callers.authenticate(ctx);
    const revoked = await revokeSessions(this.deps, { userId: caller.user.id });
    await this.deps.store.audit.append({
      kind: 'signed_out_everywhere',
      actorId: caller.user.id,
      subjectId: caller.user.id,
      sessionId: caller.identity.sessionId,
      peer: ctx.peer,
      detail: revokedDetail(revoked.length),
    });
    return { sessionsRevoked: revoked.length };
  }
}
