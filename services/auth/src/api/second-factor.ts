import { auth } from '@orderbook/proto';
import { InvalidFieldError } from '@orderbook/server-kit';
import { isRecoveryCodeShape, newRecoveryCodes, recoveryCodeHash } from '../security/recovery-codes';
import { acceptedTimeStep, isTotpCode, newTotpSecret, TOTP_ALGORITHM, TOTP_DIGITS, TOTP_PERIOD_SECONDS, totpUri } from '../security/totp';
import type { TotpFactorRecord } from '../storage/second-factors';
import type { UserRecord } from '../storage/users';
import { validPasswordInput } from '../validation';
import type { Caller } from './caller';
import type { AuthDeps, CallContext } from './deps';
import { authErrors } from './errors';
import type { ThrottledChecks } from './password-check';

/** How a second factor was proven. */
export type SecondFactorUsed = 'totp' | 'recovery code';

function sealContext(userId: string): string {
  return `totp:${userId}`;
}

/** A 6-digit TOTP code or a recovery code, or INVALID_ARGUMENT naming the field. */
export function validCode(code: string, field = 'code'): string {
  const trimmed = code.trim();
  if (trimmed.length === 0) throw new InvalidFieldError(field, 'is required');
  if (!isTotpCode(trimmed) && !isRecoveryCodeShape(trimmed)) {
    throw new InvalidFieldError(field, `must be the ${TOTP_DIGITS}-digit code of the authenticator app or a recovery code (xxxxx-xxxxx)`);
  }
  return trimmed;
}

/** TOTP enrolment and removal, and the check of a second factor at sign-in. */
export class SecondFactorOperations {
  constructor(
    private readonly deps: AuthDeps,
    private readonly checks: ThrottledChecks,
  ) {}

  enabled(userId: string): Promise<boolean> {
    return this.deps.store.secondFactors.totpEnabled(userId);
  }

  /** A current TOTP code (each time step accepted once) or an unused recovery code of the user's active factor. */
  async verify(user: UserRecord, code: string, nowMs = Date.now()): Promise<SecondFactorUsed | undefined> {
    const factor = await this.deps.store.secondFactors.totp(user.id);
    if (factor === undefined || factor.confirmedAtMs === null) return undefined;
    if (isTotpCode(code)) return (await this.acceptTotp(factor, code, nowMs)) ? 'totp' : undefined;
    const spent = await this.deps.store.secondFactors.spendRecoveryCode(user.id, recoveryCodeHash(user.id, code), nowMs);
    if (!spent) return undefined;
    await this.deps.store.audit.append({ kind: 'recovery_code_used', actorId: user.id, subjectId: user.id });
    return 'recovery code';
  }

  async begin(caller: Caller, request: auth.BeginTotpEnrollmentRequest, ctx: CallContext): Promise<auth.BeginTotpEnrollmentResponse> {
    const password = validPasswordInput(request.currentPassword, 'current_password');
    await this.checks.password(this.passwordCheck(caller, ctx), password);
    const secret = newTotpSecret();
    const saved = await this.deps.store.secondFactors.savePending(caller.user.id, this.deps.sealer.seal(secret, sealContext(caller.user.id)), Date.now());
    if (!saved) throw authErrors.totpAlreadyEnabled();
    return {
      secret,
      otpauthUri: totpUri(secret, this.deps.policy.issuer, caller.user.username),
      digits: TOTP_DIGITS,
      periodSeconds: TOTP_PERIOD_SECONDS,
      algorithm: TOTP_ALGORITHM,
    };
  }

  async confirm(caller: Caller, request: auth.ConfirmTotpEnrollmentRequest, ctx: CallContext): Promise<auth.ConfirmTotpEnrollmentResponse> {
    const code = validCode(request.code);
    const factor = await this.deps.store.secondFactors.totp(caller.user.id);
    if (factor === undefined || factor.confirmedAtMs !== null) throw authErrors.totpNotPending();
    const nowMs = Date.now();
    await this.checks.secondFactor(
      { user: caller.user, login: caller.user.username, ctx, auditKind: 'second_factor_failed', failure: authErrors.secondFactorFailed },
      async () => (isTotpCode(code) && (await this.acceptTotp(factor, code, nowMs, nowMs)) ? true : undefined),
    );
    const codes = newRecoveryCodes();
    await this.deps.store.secondFactors.replaceRecoveryCodes(caller.user.id, codes.map((c) => recoveryCodeHash(caller.user.id, c)), nowMs);
    await this.deps.store.audit.append({ kind: 'totp_enrolled', actorId: caller.user.id, subjectId: caller.user.id, sessionId: caller.identity.sessionId, peer: ctx.peer });
    return { recoveryCodes: codes };
  }

  async disable(caller: Caller, request: auth.DisableTotpRequest, ctx: CallContext): Promise<auth.DisableTotpResponse> {
    const password = validPasswordInput(request.currentPassword, 'current_password');
    const code = validCode(request.code);
    if (this.deps.policy.requireTotpForAdmins && caller.user.roles.includes('admin')) throw authErrors.totpRequired();
    if (!(await this.enabled(caller.user.id))) throw authErrors.totpNotEnabled();
    await this.checks.password(this.passwordCheck(caller, ctx), password);
    await this.checks.secondFactor(
      { user: caller.user, login: caller.user.username, ctx, auditKind: 'second_factor_failed', failure: authErrors.secondFactorFailed },
      () => this.verify(caller.user, code),
    );
    await this.deps.store.secondFactors.remove(caller.user.id);
    await this.deps.store.audit.append({ kind: 'totp_disabled', actorId: caller.user.id, subjectId: caller.user.id, sessionId: caller.identity.sessionId, peer: ctx.peer });
    return {};
  }

  private passwordCheck(caller: Caller, ctx: CallContext) {
    return {
      user: caller.user,
      login: caller.user.username,
      ctx,
      auditKind: 'sign_in_failed' as const,
      failure: () => authErrors.passwordIncorrect('current_password'),
    };
  }

  private async acceptTotp(factor: TotpFactorRecord, code: string, nowMs: number, confirmAtMs?: number): Promise<boolean> {
    const secret = this.deps.sealer.open(factor.sealedSecret, sealContext(factor.userId));
    const step = await acceptedTimeStep(secret, code, factor.lastTimeStep, nowMs);
    return step !== undefined && (await this.deps.store.secondFactors.acceptTimeStep(factor, step, confirmAtMs));
  }
}
