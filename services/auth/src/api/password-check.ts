import type { ServiceError } from '@grpc/grpc-js';
import type { AuditEventKind } from '../storage/audit-log';
import type { UserRecord } from '../storage/users';
import type { AuthDeps, CallContext } from './deps';
import { authErrors } from './errors';

/** Failure answers held at once by this instance for the per-peer delay; past it they go out at once (memory stays bounded). */
const MAX_HELD_ANSWERS = 1000;
/** A held answer is dropped this long after the caller's deadline: the caller has given up by then, and nothing goes out early. */
const PAST_DEADLINE_MS = 1000;

/** The throttling key of an account; an unknown login gets its own, so limits reveal nothing about who exists. */
export function accountKey(user: UserRecord | undefined, login: string): string {
  return user === undefined ? `login:${login.toLowerCase()}` : `user:${user.id}`;
}

export interface SecretCheck {
  /** The user, or undefined for an unknown login (the check still costs what a real one does). */
  readonly user: UserRecord | undefined;
  readonly login: string;
  readonly ctx: CallContext;
  /** What is recorded in the audit log when the check fails. */
  readonly auditKind: Extract<AuditEventKind, 'sign_in_failed' | 'second_factor_failed'>;
  /** The answer to a failure. */
  readonly failure: () => ServiceError;
}

/**
 * Password and second-factor checks under the sign-in throttle (SignInThrottle): refused while
 * the account waits out its delay, counted on failure, and a failure's answer held for the
 * peer's delay. Account counts are cleared only by a complete sign-in (see SignInFlow).
 */
export class ThrottledChecks {
  private held = 0;

  constructor(private readonly deps: AuthDeps) {}

  /** Resolves to the user when the password is theirs; otherwise throws check.failure() (or a throttling status). */
  async password(check: SecretCheck, password: string): Promise<UserRecord> {
    await this.refuseWhileThrottled(check);
    // An unknown user still costs one bcrypt compare of the configured cost (against the dummy hash).
    const matches = await this.deps.passwords.compare(password, check.user?.passwordHash ?? this.deps.passwords.dummyHash);
    if (check.user === undefined || !matches) return this.fail(check, check.user === undefined ? 'unknown login' : 'wrong password');
    return check.user;
  }

  /** Runs `verify` (a second-factor check) under the same throttle; resolves to what it resolves to when it is not undefined. */
  async secondFactor<T>(check: SecretCheck & { readonly user: UserRecord }, verify: () => Promise<T | undefined>): Promise<T> {
    await this.refuseWhileThrottled(check);
    const result = await verify();
    if (result === undefined) return this.fail(check, 'wrong, replayed or used code');
    return result;
  }

  private async refuseWhileThrottled(check: SecretCheck): Promise<void> {
    const waitMs = await this.deps.throttle.accountWaitMs(accountKey(check.user, check.login));
    if (waitMs > 0) throw authErrors.signInThrottled(waitMs);
  }

  private async fail(check: SecretCheck, detail: string): Promise<never> {
    const holdMs = await this.deps.throttle.failed(accountKey(check.user, check.login), `peer:${check.ctx.peer}`);
    await this.deps.store.audit.append({
      kind: check.auditKind,
      ...(check.user === undefined ? {} : { subjectId: check.user.id }),
      peer: check.ctx.peer,
      detail,
    });
    this.deps.logger.info({ userId: check.user?.id, peer: check.ctx.peer, holdMs }, `${check.auditKind.replace(/_/g, ' ')}`);
    await this.hold(holdMs, check.ctx.deadlineMs);
    throw check.failure();
  }

  /** Holds a failure's answer for the peer's delay (not much past the caller's deadline). */
  private async hold(delayMs: number, deadlineMs: number): Promise<void> {
    const ms = Math.min(delayMs, deadlineMs + PAST_DEADLINE_MS - Date.now());
    if (ms <= 0 || this.held >= MAX_HELD_ANSWERS) return;
    this.held += 1;
    try {
      await new Promise((resolve) => setTimeout(resolve, ms));
    } finally {
      this.held -= 1;
    }
  }
}
