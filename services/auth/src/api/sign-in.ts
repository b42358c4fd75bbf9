import { randomUUID } from 'node:crypto';
import type { auth } from '@orderbook/proto';
import { UnsealError } from '../security/sealing';
import { DuplicateUserError, type UserRecord } from '../storage/users';
import { validEmail, validLogin, validNewPassword, validPasswordInput, validUsername, WeakPasswordError } from '../validation';
import type { AuthDeps, CallContext } from './deps';
import { authErrors } from './errors';
import type { ThrottledChecks } from './password-check';
import { accountKey } from './password-check';
import { validCode, type SecondFactorOperations } from './second-factor';
import type { SessionTokens } from './session-tokens';
import { userView } from './views';

/** How long the ticket between the two steps of a sign-in with a second factor works. */
const SIGN_IN_TICKET_TTL_MS = 5 * 60_000;
const TICKET_CONTEXT = 'sign-in-ticket';

interface Ticket {
  readonly userId: string;
  readonly expiresAtMs: number;
}

/** A new password checked against the rules, a weak one answered with its own reason. */
export function newPassword(value: string, field: string, context: { readonly username?: string; readonly email?: string }): string {
  try {
    return validNewPassword(value, field, context);
  } catch (err) {
    if (err instanceof WeakPasswordError) throw authErrors.weakPassword(field, err.message);
    throw err;
  }
}

/** SignUp, SignIn and its second step, CompleteSignIn. */
export class SignInFlow {
  constructor(
    private readonly deps: AuthDeps,
    private readonly checks: ThrottledChecks,
    private readonly factors: SecondFactorOperations,
    private readonly tokens: SessionTokens,
  ) {}

  async signUp(request: auth.SignUpRequest, ctx: CallContext): Promise<auth.SignUpResponse> {
    const username = validUsername(request.username);
    const email = validEmail(request.email);
    const password = newPassword(request.password, 'password', { username, email });
    // Counted before anything is looked up: probing which names are taken costs attempts too.
    const waitMs = await this.deps.signUpLimit.attempt(ctx.peer);
    if (waitMs > 0) throw authErrors.signUpRateLimited(waitMs);
    // Hashed first, whatever the outcome: a taken name answers in the time a new one does.
    const passwordHash = await this.deps.passwords.hash(password);
    if (this.deps.policy.reservedUsernames.has(username.toLowerCase()) || this.deps.policy.reservedEmails.has(email)) {
      throw authErrors.userExists();
    }
    const user: UserRecord = { id: randomUUID(), username, email, passwordHash, roles: ['trader'], createdAtMs: Date.now() };
    try {
      // No look-up first: the unique indexes decide, so two racing sign-ups cannot both win.
      await this.deps.store.users.create(user);
    } catch (err) {
      if (err instanceof DuplicateUserError) throw authErrors.userExists();
      throw err;
    }
    await this.deps.store.audit.append({ kind: 'sign_up', actorId: user.id, subjectId: user.id, peer: ctx.peer });
    this.deps.logger.info({ userId: user.id }, 'user signed up');
    return { user: userView(user, false) };
  }

  async signIn(request: auth.SignInRequest, ctx: CallContext): Promise<auth.SignInResponse> {
    const login = validLogin(request.login);
    const password = validPasswordInput(request.password);
    const found = await this.deps.store.users.byLogin(login);
    const user = await this.checks.password({ user: found, login, ctx, auditKind: 'sign_in_failed', failure: authErrors.signInFailed }, password);

    if (this.deps.passwords.needsRehash(user.passwordHash)) {
      await this.deps.store.users.setPasswordHash(user.id, await this.deps.passwords.hash(password));
    }
    if (await this.factors.enabled(user.id)) {
      const expiresAtMs = Date.now() + SIGN_IN_TICKET_TTL_MS;
      const ticket = this.deps.sealer.seal(JSON.stringify({ userId: user.id, expiresAtMs } satisfies Ticket), TICKET_CONTEXT);
      return {
        tokens: undefined,
        user: undefined,
        secondFactorRequired: true,
        secondFactorTicket: ticket,
        secondFactorTicketExpiresAtUnixMs: BigInt(expiresAtMs),
      };
    }
    return { ...(await this.complete(user, ctx, undefined)), secondFactorRequired: false, secondFactorTicket: '', secondFactorTicketExpiresAtUnixMs: 0n };
  }

  async completeSignIn(request: auth.CompleteSignInRequest, ctx: CallContext): Promise<auth.CompleteSignInResponse> {
    const ticket = this.openTicket(request.ticket);
    const user = ticket === undefined ? undefined : await this.deps.store.users.byId(ticket.userId);
    if (user === undefined) throw authErrors.ticketInvalid();
    const code = validCode(request.code);
    const used = await this.checks.secondFactor(
      { user, login: user.username, ctx, auditKind: 'second_factor_failed', failure: authErrors.secondFactorFailed },
      () => this.factors.verify(user, code),
    );
    return this.complete(user, ctx, used);
  }

  /** A complete sign-in: the account's failures are forgotten and a session opens. */
  private async complete(user: UserRecord, ctx: CallContext, secondFactor: string | undefined): Promise<{ tokens: auth.TokenPair; user: auth.User }> {
    await this.deps.throttle.succeeded(accountKey(user, user.username));
    const { sessionId, tokens } = await this.tokens.open(user, ctx, secondFactor !== undefined);
    await this.deps.store.audit.append({
      kind: 'sign_in_succeeded',
      actorId: user.id,
      subjectId: user.id,
      sessionId,
      peer: ctx.peer,
      detail: secondFactor === undefined ? 'password' : `password and ${secondFactor}`,
    });
    this.deps.logger.info({ userId: user.id, sessionId }, 'user signed in');
    return { tokens, user: userView(user, secondFactor !== undefined || (await this.factors.enabled(user.id))) };
  }

  private openTicket(ticket: string): Ticket | undefined {
    if (ticket.length === 0 || ticket.length > 1024) return undefined;
    try {
      const opened = JSON.parse(this.deps.sealer.open(ticket, TICKET_CONTEXT)) as Ticket;
      return opened.expiresAtMs > Date.now() ? opened : undefined;
    } catch (err) {
      if (err instanceof UnsealError || err instanceof SyntaxError) return undefined;
      throw err;
    }
  }
}
