import { TokenRejectedError, type VerifiedIdentity } from '@orderbook/token-verifier';
import type { UserRecord } from '../storage/users';
import type { AuthDeps, CallContext } from './deps';
import { authErrors } from './errors';

/** A caller whose access token is valid and whose session is live. */
export interface Caller {
  readonly identity: VerifiedIdentity;
  readonly user: UserRecord;
}

/**
 * Authenticates the calls of signed-in users. Unlike other verifiers, auth asks its database
 * whether the session is still live, so a revoked session stops working here at once.
 */
export class Callers {
  constructor(private readonly deps: AuthDeps) {}

  async authenticate(ctx: CallContext, nowMs = Date.now()): Promise<Caller> {
    if (ctx.accessToken === undefined) throw authErrors.noAccessToken();
    let identity: VerifiedIdentity;
    try {
      identity = await this.deps.accessTokens.verify(ctx.accessToken);
    } catch (err) {
      if (err instanceof TokenRejectedError) throw authErrors.accessTokenRejected(err.message);
      throw err;
    }
    const session = await this.deps.store.sessions.session(identity.sessionId);
    if (session === undefined || session.revokedAtMs !== null || session.userId !== identity.userId || session.expiresAtMs <= nowMs) {
      throw authErrors.sessionRevoked();
    }
    const user = await this.deps.store.users.byId(identity.userId);
    if (user === undefined) throw authErrors.accessTokenRejected('the token belongs to no user');
    return { identity, user };
  }

  /** An admin: the admin role in the token (which, with AUTH_REQUIRE_TOTP_FOR_ADMINS, means a second factor was used). */
  async authenticateAdmin(ctx: CallContext): Promise<Caller> {
    const caller = await this.authenticate(ctx);
    if (!caller.identity.roles.includes('admin') || !caller.user.roles.includes('admin')) throw authErrors.adminRequired();
    return caller;
  }
}
