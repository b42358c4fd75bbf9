import type { auth } from '@orderbook/proto';
import type { Role } from '@orderbook/token-verifier';
import type { UserRecord } from '../storage/users';
import type { AccessTokenFor } from '../tokens/refresh-tokens';
import type { AuthDeps, CallContext } from './deps';
import { tokenPairView } from './views';

/** Opens sessions and issues the access tokens of a session. */
export class SessionTokens {
  constructor(private readonly deps: AuthDeps) {}

  /**
   * The roles a session's tokens carry: the user's, less `admin` when admins must use a second
   * factor and this session signed in without one.
   */
  rolesFor(user: UserRecord, secondFactor: boolean): Role[] {
    if (this.deps.policy.requireTotpForAdmins && !secondFactor) return user.roles.filter((role) => role !== 'admin');
    return [...user.roles];
  }

  /** Opens a session for a successful sign-in and issues its first pair. */
  async open(user: UserRecord, ctx: CallContext, secondFactor: boolean): Promise<{ readonly sessionId: string; readonly tokens: auth.TokenPair }> {
    const refresh = await this.deps.refreshTokens.open({ userId: user.id, peer: ctx.peer, userAgent: ctx.userAgent, secondFactor });
    const access = await this.deps.accessTokens.issue({
      userId: user.id,
      sessionId: refresh.sessionId,
      roles: this.rolesFor(user, secondFactor),
      secondFactor,
    });
    return {
      sessionId: refresh.sessionId,
      tokens: tokenPairView({
        accessToken: access.token,
        accessTokenExpiresAtMs: access.expiresAtMs,
        refreshToken: refresh.token,
        refreshTokenExpiresAtMs: refresh.expiresAtMs,
      }),
    };
  }

  /** The access token of a refresh: roles as the user has them now. */
  readonly accessTokenFor: AccessTokenFor = async ({ userId, sessionId }) => {
    const [user, session] = await Promise.all([this.deps.store.users.byId(userId), this.deps.store.sessions.session(sessionId)]);
    if (user === undefined || session === undefined) throw new Error(`session ${sessionId} or its user is gone`);
    return this.deps.accessTokens.issue({ userId, sessionId, roles: this.rolesFor(user, session.secondFactor), secondFactor: session.secondFactor });
  };
}
