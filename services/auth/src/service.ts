import { randomUUID } from 'node:crypto';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { auth } from '@orderbook/proto';
import { grpcError, type Logger } from '@orderbook/server-kit';
import { TokenRejectedError, type Role } from '@orderbook/token-verifier';
import type { SignInLimits } from './config';
import type { KeyRing } from './keys';
import type { PasswordHasher } from './passwords';
import { SlidingWindowLimiter } from './rate-limiter';
import type { IssuedRefreshToken, RefreshTokens } from './refresh-tokens';
import type { AccessTokens } from './tokens';
import { DuplicateUserError, type UserRecord, type UserStore } from './user-store';
import { validEmail, validNewPassword, validRefreshToken, validSignIn, validUsername } from './validation';

export interface AuthServiceDeps {
  readonly store: UserStore;
  readonly passwords: PasswordHasher;
  readonly accessTokens: AccessTokens;
  readonly refreshTokens: RefreshTokens;
  readonly keys: KeyRing;
  readonly signInLimits: SignInLimits;
  readonly issuer: string;
  readonly audience: string;
  readonly logger: Logger;
}

/** One answer for unknown user and wrong password, so that sign-in does not reveal who has an account. */
export const SIGN_IN_FAILED = 'login or password: incorrect';
const REFRESH_REJECTED = 'refresh_token: invalid, expired or revoked';
const REFRESH_REUSED = 'refresh_token: already used; every token of this session has been revoked';

/**
 * The operations of AuthService, on decoded requests. Failures are gRPC errors with the status the
 * contract gives them (proto/orderbook/auth/v1/auth.proto), or InvalidFieldError for bad input.
 */
export class AuthService {
  private readonly accountFailures: SlidingWindowLimiter;
  private readonly peerFailures: SlidingWindowLimiter;

  constructor(private readonly deps: AuthServiceDeps) {
    const windowMs = deps.signInLimits.windowSeconds * 1000;
    this.accountFailures = new SlidingWindowLimiter({ limit: deps.signInLimits.maxFailuresPerAccount, windowMs });
    this.peerFailures = new SlidingWindowLimiter({ limit: deps.signInLimits.maxFailuresPerPeer, windowMs });
  }

  async signUp(request: auth.SignUpRequest): Promise<auth.SignUpResponse> {
    const username = validUsername(request.username);
    const email = validEmail(request.email);
    const password = validNewPassword(request.password);
    const user: UserRecord = {
      id: randomUUID(),
      username,
      email,
      passwordHash: await this.deps.passwords.hash(password),
      roles: ['trader'],
      createdAtMs: Date.now(),
    };
    try {
      // No look-up first: the unique indexes decide, so two racing sign-ups cannot both win.
      await this.deps.store.createUser(user);
    } catch (err) {
      if (err instanceof DuplicateUserError) throw grpcError(status.ALREADY_EXISTS, `${err.field}: already taken`);
      throw err;
    }
    this.deps.logger.info({ userId: user.id }, 'user signed up');
    return { user: toProtoUser(user) };
  }

  /** `peer` is the client's address (without port), the key of the per-peer failure limit. */
  async signIn(request: auth.SignInRequest, peer: string): Promise<auth.SignInResponse> {
    const { login, password } = validSignIn(request.login, request.password);
    const user = login.includes('@')
      ? await this.deps.store.findUserByEmail(login.toLowerCase())
      : await this.deps.store.findUserByUsername(login);
    // Unknown logins are limited under their own key, exactly like accounts, so the limit reveals nothing either.
    const accountKey = user === undefined ? `login:${login.toLowerCase()}` : `user:${user.id}`;
    const peerKey = `peer:${peer}`;
    this.throwIfLimited(this.accountFailures.retryAfterMs(accountKey), 'for this account');
    this.throwIfLimited(this.peerFailures.retryAfterMs(peerKey), 'from this address');

    // An unknown user still costs one bcrypt compare of the configured cost (against the dummy hash).
    const matches = await this.deps.passwords.compare(password, user?.passwordHash ?? this.deps.passwords.dummyHash);
    if (user === undefined || !matches) {
      this.accountFailures.record(accountKey);
      this.peerFailures.record(peerKey);
      this.deps.logger.info({ userId: user?.id, peer }, 'sign-in failed');
      throw grpcError(status.UNAUTHENTICATED, SIGN_IN_FAILED);
    }
    this.accountFailures.reset(accountKey);

    if (this.deps.passwords.needsRehash(user.passwordHash)) {
      await this.deps.store.updateUser(user.id, { passwordHash: await this.deps.passwords.hash(password) });
    }
    const tokens = await this.tokenPair(user, await this.deps.refreshTokens.issue(user.id));
    this.deps.logger.info({ userId: user.id }, 'user signed in');
    return { tokens, user: toProtoUser(user) };
  }

  async refreshToken(request: auth.RefreshTokenRequest): Promise<auth.RefreshTokenResponse> {
    const result = await this.deps.refreshTokens.rotate(validRefreshToken(request.refreshToken));
    if (result.kind === 'invalid') throw grpcError(status.UNAUTHENTICATED, REFRESH_REJECTED);
    if (result.kind === 'reused') {
      this.deps.logger.warn({ userId: result.userId, familyId: result.familyId }, 'spent refresh token reused: family revoked');
      throw grpcError(status.UNAUTHENTICATED, REFRESH_REUSED);
    }
    const user = await this.deps.store.findUserById(result.userId);
    if (user === undefined) throw grpcError(status.UNAUTHENTICATED, REFRESH_REJECTED);
    return { tokens: await this.tokenPair(user, result.next) };
  }

  async signOut(request: auth.SignOutRequest): Promise<auth.SignOutResponse> {
    const revoked = await this.deps.refreshTokens.revokeFamily(validRefreshToken(request.refreshToken));
    if (!revoked) throw grpcError(status.UNAUTHENTICATED, REFRESH_REJECTED);
    return {};
  }

  /** `accessToken` is the bearer token of the call, if any. */
  async getMe(accessToken: string | undefined): Promise<auth.GetMeResponse> {
    if (accessToken === undefined) throw grpcError(status.UNAUTHENTICATED, 'authorization: expected "Bearer <access token>" metadata');
    let userId: string;
    try {
      ({ userId } = await this.deps.accessTokens.verify(accessToken));
    } catch (err) {
      if (err instanceof TokenRejectedError) throw grpcError(status.UNAUTHENTICATED, `authorization: ${err.message}`);
      throw err;
    }
    const user = await this.deps.store.findUserById(userId);
    if (user === undefined) throw grpcError(status.UNAUTHENTICATED, 'authorization: the token belongs to no user');
    return { user: toProtoUser(user) };
  }

  getPublicKeys(): auth.GetPublicKeysResponse {
    return {
      keys: this.deps.keys.publishedKeys().map(({ kid, x }) => ({
        kid,
        kty: 'OKP',
        alg: 'EdDSA',
        use: 'sig',
        crv: 'Ed25519',
        x,
        n: '',
        e: '',
      })),
      issuer: this.deps.issuer,
      audience: this.deps.audience,
    };
  }

  private throwIfLimited(retryAfterMs: number, scope: string): void {
    if (retryAfterMs <= 0) return;
    const seconds = Math.ceil(retryAfterMs / 1000);
    const error: ServiceError = grpcError(status.RESOURCE_EXHAUSTED, `login: too many failed sign-ins ${scope}; retry in ${seconds} s`);
    error.metadata = retryAfter(seconds);
    throw error;
  }

  private async tokenPair(user: UserRecord, refresh: IssuedRefreshToken): Promise<auth.TokenPair> {
    const access = await this.deps.accessTokens.issue(user);
    return {
      accessToken: access.token,
      accessTokenExpiresAtUnixMs: BigInt(access.expiresAtMs),
      refreshToken: refresh.token,
      refreshTokenExpiresAtUnixMs: BigInt(refresh.expiresAtMs),
      tokenType: 'Bearer',
    };
  }
}

/** Machine-readable retry hint next to the message, as trailing metadata. */
function retryAfter(seconds: number): Metadata {
  const metadata = new Metadata();
  metadata.set('retry-after-seconds', String(seconds));
  return metadata;
}

const PROTO_ROLES: Readonly<Record<Role, auth.Role>> = { trader: auth.Role.ROLE_TRADER, admin: auth.Role.ROLE_ADMIN };

function toProtoUser(user: UserRecord): auth.User {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    roles: user.roles.map((role) => PROTO_ROLES[role]),
    createdAtUnixMs: BigInt(user.createdAtMs),
  };
}
