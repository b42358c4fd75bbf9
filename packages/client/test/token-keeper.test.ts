import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { auth } from '@orderbook/proto';
import { OrderbookError } from '../src/errors';
import { TokenKeeper, type AuthCalls } from '../src/token-keeper';

const LIFETIME_MS = 900_000;

/** An AuthService that issues numbered tokens, answers refreshes only when told to, and counts the calls. */
class FakeAuth implements AuthCalls {
  now = 1_000_000;
  issued = 0;
  readonly refreshed: string[] = [];
  readonly signedOut: string[] = [];
  private releases: Array<() => void> = [];

  pair(): auth.TokenPair {
    this.issued += 1;
    return auth.TokenPair.fromPartial({
      accessToken: `access-${this.issued}`,
      refreshToken: `refresh-${this.issued}`,
      accessTokenExpiresAtUnixMs: BigInt(this.now + LIFETIME_MS),
      tokenType: 'Bearer',
    });
  }

  /** Lets the refreshes waiting so far answer. */
  release(): void {
    for (const release of this.releases.splice(0)) release();
  }

  async signIn(request: auth.SignInRequest): Promise<auth.SignInResponse> {
    if (request.login === 'with-totp') return auth.SignInResponse.fromPartial({ secondFactorRequired: true, secondFactorTicket: 'ticket-1' });
    return auth.SignInResponse.fromPartial({ tokens: this.pair(), user: { id: 'u-1', username: request.login } });
  }

  async completeSignIn(request: auth.CompleteSignInRequest): Promise<auth.CompleteSignInResponse> {
    if (request.ticket !== 'ticket-1' || request.code !== '123456') throw new OrderbookError(status.UNAUTHENTICATED, 'code: wrong');
    return auth.CompleteSignInResponse.fromPartial({ tokens: this.pair(), user: { id: 'u-2', username: 'with-totp' } });
  }

  async refreshToken(request: auth.RefreshTokenRequest): Promise<auth.RefreshTokenResponse> {
    this.refreshed.push(request.refreshToken);
    await new Promise<void>((resolve) => this.releases.push(resolve));
    return { tokens: this.pair() };
  }

  async signOut(request: auth.SignOutRequest): Promise<auth.SignOutResponse> {
    this.signedOut.push(request.refreshToken);
    return {};
  }
}

describe('the token keeper', () => {
  let fake: FakeAuth;
  let keeper: TokenKeeper;

  beforeEach(() => {
    fake = new FakeAuth();
    keeper = new TokenKeeper(fake, { refreshAheadMs: 60_000, now: () => fake.now });
  });

  it('hands out the signed-in access token while it has more than refreshAheadMs left', async () => {
    const user = await keeper.signIn({ login: 'alice', password: 'pw' });
    expect(user.username).to.equal('alice');
    fake.now += LIFETIME_MS - 60_001;
    expect(await keeper.accessToken()).to.equal('access-1');
    expect(fake.refreshed).to.deep.equal([]);
  });

  it('refreshes ahead of expiry once for any number of concurrent callers', async () => {
    await keeper.signIn({ login: 'alice', password: 'pw' });
    fake.now += LIFETIME_MS - 59_000;
    const tokens = Array.from({ length: 20 }, () => keeper.accessToken());
    await new Promise((resolve) => setImmediate(resolve));
    fake.release();
    expect(new Set(await Promise.all(tokens))).to.deep.equal(new Set(['access-2']));
    expect(fake.refreshed).to.deep.equal(['refresh-1']);
    expect(await keeper.accessToken()).to.equal('access-2');

    fake.now += LIFETIME_MS;
    const next = keeper.accessToken();
    await new Promise((resolve) => setImmediate(resolve));
    fake.release();
    expect(await next).to.equal('access-3');
    expect(fake.refreshed).to.deep.equal(['refresh-1', 'refresh-2']);
  });

  it('signs out with the newest refresh token and then refuses to hand out tokens', async () => {
    await keeper.signIn({ login: 'alice', password: 'pw' });
    fake.now += LIFETIME_MS;
    const refreshing = keeper.accessToken();
    const signingOut = keeper.signOut();
    await new Promise((resolve) => setImmediate(resolve));
    fake.release();
    await refreshing;
    await signingOut;
    expect(fake.signedOut).to.deep.equal(['refresh-2']);
    const err = await keeper.accessToken().catch((e: unknown) => e);
    expect([(err as OrderbookError).code, (err as OrderbookError).reason]).to.deep.equal([status.UNAUTHENTICATED, 'NOT_SIGNED_IN']);
  });

  it('completes a sign-in with a second factor through the code callback', async () => {
    const user = await keeper.signIn({ login: 'with-totp', password: 'pw', secondFactorCode: () => '123456' });
    expect(user.id).to.equal('u-2');
    expect(await keeper.accessToken()).to.equal('access-1');
    const err = await new TokenKeeper(fake).signIn({ login: 'with-totp', password: 'pw' }).catch((e: unknown) => e);
    expect((err as OrderbookError).reason).to.equal('SECOND_FACTOR_REQUIRED');
  });
});
