import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { auth, matching } from '@orderbook/proto';
import { bearer, expectStatus } from '@orderbook/test-support';
import { Health } from './support/health';
import { Session as OrderSession } from './support/session';
import { StreamReader } from './support/stream-reader';
import { TestStack } from './support/test-stack';

/** Generous: the feed delivers in milliseconds here; this only bounds a test that would otherwise hang. */
const REFUSAL_BOUND_MS = 5000;

interface Session {
  readonly userId: string;
  readonly username: string;
  readonly password: string;
  readonly tokens: auth.TokenPair;
  readonly metadata: grpc.Metadata;
}

async function metric(stack: TestStack, name: string): Promise<number> {
  const page = await (await fetch(`http://127.0.0.1:${stack.matching.metricsPort}/metrics`)).text();
  const line = page.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return Number(line?.split(' ').pop() ?? NaN);
}

/**
 * Polls matching with the token until it is refused UNAUTHENTICATED; resolves to the ms from
 * `sinceMs` (when the revocation call returned) to the first refusal.
 */
async function refusedWithin(stack: TestStack, metadata: grpc.Metadata, sinceMs: number): Promise<number> {
  for (;;) {
    try {
      await stack.client.getBalances(metadata);
    } catch (err) {
      const error = err as grpc.ServiceError;
      expect(grpc.status[error.code], error.details).to.equal('UNAUTHENTICATED');
      expect(error.details).to.match(/^authorization: token's session has been revoked/);
      return Date.now() - sinceMs;
    }
    if (Date.now() - sinceMs > REFUSAL_BOUND_MS) expect.fail(`matching still accepted the revoked token after ${REFUSAL_BOUND_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('revocation reaches matching (WatchRevocations)', () => {
  let stack: TestStack;
  const delays: Array<[string, number]> = [];

  before(async () => {
    stack = await TestStack.start();
  });
  after(async () => {
    await stack?.stop();
    for (const [what, ms] of delays) console.log(`      revocation delay to matching (${what}): ${ms} ms`);
  });

  async function session(person?: { username: string; password: string }): Promise<Session> {
    const who = person ?? (await stack.newTrader('revoked'));
    const password = 'password' in who ? who.password : `password-${who.username}`;
    const { tokens, user } = await stack.authClient.signIn({ login: who.username, password });
    if (tokens === undefined || user === undefined) throw new Error('no tokens');
    const metadata = bearer(tokens.accessToken);
    // Verified once, so that matching holds it in its verification cache: revocation must drop it.
    await stack.client.getBalances(metadata);
    return { userId: user.id, username: who.username, password, tokens, metadata };
  }

  it('refuses every session of a user after SignOutEverywhere, cached verifications included', async () => {
    const first = await session();
    const second = await session(first);
    const revocationsBefore = await metric(stack, 'matching_revocations_received_total');
    const { sessionsRevoked } = await stack.authClient.signOutEverywhere(first.metadata);
    const returned = Date.now();
    delays.push(['SignOutEverywhere', await refusedWithin(stack, first.metadata, returned)]);
    await refusedWithin(stack, second.metadata, returned);
    expect(sessionsRevoked).to.be.at.least(2);
    expect(await metric(stack, 'matching_revocations_received_total')).to.equal(revocationsBefore + sessionsRevoked);
    expect(await metric(stack, 'matching_calls_unauthorized_total{reason="revoked"}')).to.be.greaterThan(0);
  });

  it('refuses the revoked session only, after RevokeSession; the others go on', async () => {
    const kept = await session();
    const revoked = await session(kept);
    const { sessions } = await stack.authClient.listSessions(kept.metadata);
    const target = sessions.find((s) => !s.current)?.sessionId ?? '';
    await stack.authClient.revokeSession(target, kept.metadata);
    delays.push(['RevokeSession', await refusedWithin(stack, revoked.metadata, Date.now())]);
    await stack.client.getBalances(kept.metadata);
  });

  it('refuses the other sessions after ChangePassword, not the calling one', async () => {
    const current = await session();
    const other = await session(current);
    await stack.authClient.changePassword({ currentPassword: current.password, newPassword: 'a completely new passphrase' }, current.metadata);
    delays.push(['ChangePassword', await refusedWithin(stack, other.metadata, Date.now())]);
    await stack.client.getBalances(current.metadata);
  });

  it("refuses a demoted admin's tokens at once: AddFunds stops working", async () => {
    const promoted = await session();
    await stack.authClient.setUserRoles({ userId: promoted.userId, roles: [auth.Role.ROLE_TRADER, auth.Role.ROLE_ADMIN] }, stack.admin.metadata);
    const asAdmin = await session(promoted);
    await stack.client.addFunds({ userId: promoted.userId, asset: 'USD', amount: '1' }, asAdmin.metadata);
    await stack.authClient.setUserRoles({ userId: promoted.userId, roles: [auth.Role.ROLE_TRADER] }, stack.admin.metadata);
    const returned = Date.now();
    for (;;) {
      const refused = await stack.client.addFunds({ userId: promoted.userId, asset: 'USD', amount: '1' }, asAdmin.metadata).then(
        () => false,
        (err: grpc.ServiceError) => {
          expect(grpc.status[err.code]).to.equal('UNAUTHENTICATED');
          return true;
        },
      );
      if (refused) break;
      if (Date.now() - returned > REFUSAL_BOUND_MS) expect.fail('the demoted admin could still add funds');
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    delays.push(['SetUserRoles (demotion)', Date.now() - returned]);
  });

  it('ends the open order-update streams and order sessions of a revoked session, and only those', async () => {
    const kept = await session();
    const revoked = await session(kept);
    await stack.client.addFunds({ userId: kept.userId, asset: 'USD', amount: '100' }, stack.admin.metadata);
    const revokedUpdates = new StreamReader(stack.client.raw.streamOrderUpdates({ market: '' }, revoked.metadata));
    const keptUpdates = new StreamReader(stack.client.raw.streamOrderUpdates({ market: '' }, kept.metadata));
    const revokedSession = new OrderSession(stack.client.raw, revoked.metadata);
    // One order through the session proves both it and the streams are open and registered.
    const placed = await revokedSession.request({ requestId: 1n, placeLimitOrder: { market: 'BTC-USD', side: matching.Side.SIDE_BUY, price: '1', quantity: '1' } });
    const orderId = placed.placeLimitOrder?.order?.orderId;
    expect(orderId, placed.error?.message).to.be.a('bigint');
    await revokedUpdates.until((m) => m.some((u) => u.order?.orderId === orderId));
    await keptUpdates.until((m) => m.some((u) => u.order?.orderId === orderId));
    const endedBefore = await metric(stack, 'matching_streams_ended_by_revocation_total');

    const { sessions } = await stack.authClient.listSessions(kept.metadata);
    await stack.authClient.revokeSession(sessions.find((s) => !s.current)?.sessionId ?? '', kept.metadata);

    for (const ended of [await revokedUpdates.ended(), await revokedSession.ended]) {
      expect(grpc.status[ended.code], ended.details).to.equal('UNAUTHENTICATED');
      expect(ended.details).to.match(/^authorization: the stream's session has been revoked/);
    }
    expect(await metric(stack, 'matching_streams_ended_by_revocation_total')).to.equal(endedBefore + 2);
    const { order } = await stack.client.placeLimitOrder({ market: 'BTC-USD', side: matching.Side.SIDE_BUY, price: '1', quantity: '1' }, kept.metadata);
    await keptUpdates.until((m) => m.some((u) => u.order?.orderId === order?.orderId));
    expect(keptUpdates.status, 'the other session keeps its stream').to.equal(undefined);
    keptUpdates.cancel();
  });

  it('refuses the tokens of a session whose refresh token was reused', async () => {
    const person = await session();
    const successor = (await stack.authClient.refreshToken(person.tokens.refreshToken)).tokens;
    await stack.authClient.refreshToken(successor?.refreshToken ?? '');
    await expectStatus(stack.authClient.refreshToken(person.tokens.refreshToken), grpc.status.UNAUTHENTICATED, /already used/);
    await refusedWithin(stack, bearer(successor?.accessToken ?? ''), Date.now());
  });

  it('still refuses forged, expired and unsigned tokens (the revocation check comes after the signature)', async () => {
    const person = await session();
    const [header, payload] = person.tokens.accessToken.split('.');
    await expectStatus(stack.client.getBalances(bearer(`${header}.${payload}.`)), grpc.status.UNAUTHENTICATED, /^authorization: /);
    await expectStatus(stack.client.placeLimitOrder({ market: 'BTC-USD', side: matching.Side.SIDE_BUY, price: '1', quantity: '1' }, bearer('x.y.z')), grpc.status.UNAUTHENTICATED);
  });
});

describe('matching without the revocation feed', () => {
  let stack: TestStack;
  before(async () => {
    stack = await TestStack.start({ matchingEnv: { MATCHING_REVOCATION_FALLBACK_SECONDS: '1' } });
  });
  after(() => stack?.stop());

  it('says so in metrics and health, and refuses tokens older than the fallback age (revocations could be missed)', async () => {
    const health = new Health(stack.matching.address);
    try {
      const trader = await stack.newTrader('fallback');
      await stack.client.getBalances(trader.metadata);
      expect(await health.check('revocation-feed')).to.equal('SERVING');
      expect(await metric(stack, 'matching_revocation_feed_up')).to.equal(1);

      await stack.auth.stop();
      const deadline = Date.now() + REFUSAL_BOUND_MS;
      while ((await health.check('revocation-feed')) !== 'NOT_SERVING') {
        if (Date.now() > deadline) expect.fail('the revocation-feed health check stayed SERVING');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(await metric(stack, 'matching_revocation_feed_up')).to.equal(0);
      expect(await health.check(''), 'matching itself still serves').to.equal('SERVING');
      // One second later both the token and the feed's last word are older than the fallback age.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await expectStatus(stack.client.getBalances(trader.metadata), grpc.status.UNAUTHENTICATED, /feed is down.*older than 1 s: refresh it/);
      expect(await metric(stack, 'matching_calls_unauthorized_total{reason="revocation_feed_down"}')).to.equal(1);
      expect((await stack.client.listMarkets()).markets.length, 'public methods go on').to.be.greaterThan(0);
    } finally {
      health.close();
    }
  });
});
