import type { auth } from '@orderbook/proto';
import { AccountOperations } from './account';
import { AdminOperations } from './admin';
import { Callers } from './caller';
import type { AuthDeps } from './deps';
import { ThrottledChecks } from './password-check';
import { SecondFactorOperations } from './second-factor';
import { SessionTokens } from './session-tokens';
import { SignInFlow } from './sign-in';

/**
 * The operations of AuthService, on decoded requests, grouped by who calls them. Failures are
 * gRPC errors with the status and reason the contract gives them
 * (proto/orderbook/auth/v1/auth.proto), or InvalidFieldError for bad input.
 */
export class AuthService {
  readonly callers: Callers;
  readonly signIns: SignInFlow;
  readonly account: AccountOperations;
  readonly secondFactors: SecondFactorOperations;
  readonly admin: AdminOperations;

  constructor(private readonly deps: AuthDeps) {
    const checks = new ThrottledChecks(deps);
    const tokens = new SessionTokens(deps);
    this.callers = new Callers(deps);
    this.secondFactors = new SecondFactorOperations(deps, checks);
    this.signIns = new SignInFlow(deps, checks, this.secondFactors, tokens);
    this.account = new AccountOperations(deps, this.callers, checks, this.secondFactors, tokens);
    this.admin = new AdminOperations(deps, this.callers);
  }

  publicKeys(): auth.GetPublicKeysResponse {
    return {
      keys: this.deps.keys.publishedKeys().map(({ kid, x }) => ({ kid, kty: 'OKP', alg: 'EdDSA', use: 'sig', crv: 'Ed25519', x, n: '', e: '' })),
      issuer: this.deps.policy.issuer,
      audience: this.deps.policy.audience,
    };
  }
}
