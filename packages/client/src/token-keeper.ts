import { status } from '@grpc/grpc-js';
import type { auth } from '@orderbook/proto';
import { OrderbookError } from './errors';

/** The AuthService calls the keeper makes (promise-returning; OrderbookError on failure). */
export interface AuthCalls {
  signIn(request: auth.SignInRequest): Promise<auth.SignInResponse>;
  completeSignIn(request: auth.CompleteSignInRequest): Promise<auth.CompleteSignInResponse>;
  refreshToken(request: auth.RefreshTokenRequest): Promise<auth.RefreshTokenResponse>;
  signOut(request: auth.SignOutRequest): Promise<auth.SignOutResponse>;
}

export interface SignInOptions {
  readonly login: string;
  readonly password: string;
  /** Asked for a TOTP or recovery code when the user has a second factor. */
  readonly secondFactorCode?: () => string | Promise<string>;
}

export interface TokenKeeperOptions {
  /** Refresh once the access token has less than this left (default 60 s, at most a third of its lifetime). */
  readonly refreshAheadMs?: number;
  /** Milliseconds since the epoch (default Date.now). */
  readonly now?: () => number;
}

/**
 * Holds the session's token pair and hands out an access token that is valid for a while yet:
 * it refreshes ahead of expiry, once for any number of callers that need it at the same time
 * (the refresh token is valid once, so two concurrent refreshes would revoke the session).
 */
export class TokenKeeper {
  private tokens: auth.TokenPair | undefined;
  private issuedAtMs = 0;
  private refreshing: Promise<string> | undefined;
  private readonly now: () => number;
  private readonly refreshAheadMs: number;

  constructor(
    private readonly calls: AuthCalls,
    options: TokenKeeperOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.refreshAheadMs = options.refreshAheadMs ?? 60_000;
  }

  get signedIn(): boolean {
    return this.tokens !== undefined;
  }

  async signIn(options: SignInOptions): Promise<auth.User> {
    const answer = await this.calls.signIn({ login: options.login, password: options.password });
    if (answer.secondFactorRequired) {
      if (options.secondFactorCode === undefined) throw new OrderbookError(status.FAILED_PRECONDITION, 'the user has a second factor: pass secondFactorCode', { reason: 'SECOND_FACTOR_REQUIRED', metadata: {}, fieldViolations: [] });
      const completed = await this.calls.completeSignIn({ ticket: answer.secondFactorTicket, code: await options.secondFactorCode() });
      return this.keep(completed.tokens, completed.user);
    }
    return this.keep(answer.tokens, answer.user);
  }

  /** A valid access token, refreshed first when it expires within refreshAheadMs. */
  async accessToken(): Promise<string> {
    const tokens = this.tokens;
    if (tokens === undefined) throw new OrderbookError(status.UNAUTHENTICATED, 'not signed in', { reason: 'NOT_SIGNED_IN', metadata: {}, fieldViolations: [] });
    if (this.now() < this.refreshAtMs(tokens)) return tokens.accessToken;
    this.refreshing ??= this.refresh(tokens).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Revokes the session at auth and forgets the tokens. */
  async signOut(): Promise<void> {
    const tokens = this.tokens;
    if (tokens === undefined) return;
    await this.refreshing?.catch(() => undefined);
    const current = this.tokens ?? tokens;
    this.tokens = undefined;
    await this.calls.signOut({ refreshToken: current.refreshToken });
  }

  private refreshAtMs(tokens: auth.TokenPair): number {
    const expiresAt = Number(tokens.accessTokenExpiresAtUnixMs);
    const lifetime = expiresAt - this.issuedAtMs;
    return expiresAt - Math.min(this.refreshAheadMs, lifetime / 3);
  }

  private async refresh(tokens: auth.TokenPair): Promise<string> {
    const answer = await this.calls.refreshToken({ refreshToken: tokens.refreshToken });
    if (answer.tokens === undefined) throw new OrderbookError(status.INTERNAL, 'RefreshToken returned no tokens');
    this.tokens = answer.tokens;
    this.issuedAtMs = this.now();
    return answer.tokens.accessToken;
  }

  private keep(tokens: auth.TokenPair | undefined, user: auth.User | undefined): auth.User {
    if (tokens === undefined || user === undefined) throw new OrderbookError(status.INTERNAL, 'sign-in returned no tokens');
    this.tokens = tokens;
    this.issuedAtMs = this.now();
    return user;
  }
}
