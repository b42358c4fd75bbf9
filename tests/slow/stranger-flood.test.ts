import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import type { RunningAuthServer } from '@orderbook/auth-service';
import { matching } from '@orderbook/proto';
import { AuthClient, bearer, MatchingClient } from '@orderbook/test-support';
import { Session } from '../e2e/support/session';
import { startTestAuth, testMatchingEnv } from '../support/in-process-services';
import { rssMiB, startMatchingProcess, type ServingMatchingProcess } from '../support/matching-process';

/**
 * What one signed-in stranger can open with the new timers, stops and sessions, against a matching
 * process with a small heap: cancel-on-disconnect sessions opened and dropped in rounds (bounded
 * by the stream limits, each dropped session's orders cancelled, its place given back), thousands
 * of GTD orders whose timers all fire (the queue drains, every lock released), a dead-man switch
 * renewed thousands of times (one switch, firing once), and thousands of stop orders (at most
 * MATCHING_MAX_STOPS_PER_USER_MARKET of them wait, the rest are refused naming the cap; a trade
 * triggers at most STOP_TRIGGERS_PER_COMMAND of them; one cancel-all clears them). The process
 * stays within its memory.
 */
const ADMIN_PASSWORD = 'admin-password-for-tests';
const HEAP_MB = 192;
const RSS_LIMIT_MB = 500;
const PER_PEER = 150;
const ATTEMPTS = 400;
const ROUNDS = 3;
const CONNECTIONS = 3;
const GTD_ORDERS = 3000;
const RENEWALS = 2000;
const PARKED_STOPS = 3000;
/** STOP_TRIGGERS_PER_COMMAND of packages/engine/src/stops.ts. */
const TRIGGERS_PER_COMMAND = 64;
/** MATCHING_MAX_STOPS_PER_USER_MARKET's default. */
const STOPS_PER_USER_MARKET = 1000;
const { SIDE_BUY, SIDE_SELL } = matching.Side;
const OPEN = matching.OrderStatusFilter.ORDER_STATUS_FILTER_OPEN;

describe('a stranger floods sessions, timers and stops (separate process, small heap)', function () {
  this.timeout(180_000);
  let dir: string;
  let auth: RunningAuthServer;
  let authClient: AuthClient;
  let service: ServingMatchingProcess;
  let client: MatchingClient;
  const clients: MatchingClient[] = [];
  let metadata: grpc.Metadata;
  let bob: grpc.Metadata;
  let carol: grpc.Metadata;
  let peakRss = 0;
  let sampler: NodeJS.Timeout;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orderbook-timer-flood-'));
    auth = await startTestAuth(dir, ADMIN_PASSWORD);
    authClient = new AuthClient(auth.address);
    service = await startMatchingProcess(
      { ...testMatchingEnv(dir, auth), LOG_LEVEL: 'info', MATCHING_MAX_STREAMS_PER_PEER: String(PER_PEER) },
      { nodeFlags: [`--max-old-space-size=${HEAP_MB}`] },
    );
    sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMiB(service.child.pid!))), 200);
    client = new MatchingClient(service.address);
    // One connection carries at most MATCHING_GRPC_MAX_CONCURRENT_STREAMS streams: the flood uses several.
    for (let i = 0; i < CONNECTIONS; i++) clients.push(new MatchingClient(service.address, undefined, { 'grpc.use_local_subchannel_pool': 1 }));
    await authClient.signUp({ username: 'stranger', email: 'stranger@example.com', password: 'password-stranger' });
    const { tokens } = await authClient.signIn({ login: 'stranger', password: 'password-stranger' });
    metadata = bearer(tokens!.accessToken);
    const admin = bearer((await authClient.signIn({ login: 'admin', password: ADMIN_PASSWORD })).tokens!.accessToken);
    const { user } = await authClient.signIn({ login: 'stranger', password: 'password-stranger' });
    await client.addFunds({ userId: user!.id, asset: 'USD', amount: '1000000' }, admin);
    await authClient.signUp({ username: 'bob', email: 'bob@example.com', password: 'password-bob' });
    const signedIn = await authClient.signIn({ login: 'bob', password: 'password-bob' });
    bob = bearer(signedIn.tokens!.accessToken);
    await client.addFunds({ userId: signedIn.user!.id, asset: 'BTC', amount: '1' }, admin);
    await authClient.signUp({ username: 'carol', email: 'carol@example.com', password: 'password-carol' });
    const carolIn = await authClient.signIn({ login: 'carol', password: 'password-carol' });
    carol = bearer(carolIn.tokens!.accessToken);
    await client.addFunds({ userId: carolIn.user!.id, asset: 'USD', amount: '1000' }, admin);
  });

  after(async () => {
    clearInterval(sampler);
    for (const c of [client, ...clients]) c.close();
    service.child.kill('SIGKILL');
    await service.exited;
    authClient.close();
    await auth.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function openOrders(): Promise<number> {
    return (await client.listOrders({ status: OPEN, pageSize: 1000 }, metadata)).orders.length;
  }

  async function untilNoOpenOrders(): Promise<void> {
    while ((await openOrders()) > 0) await sleep(100);
  }

  it(`admits ${PER_PEER} of ${ATTEMPTS} cancel-on-disconnect sessions a round, cancels the orders of each dropped one, and gives their places back`, async () => {
    const withOption = metadata.clone();
    withOption.set('cancel-on-disconnect', 'true');
    for (let round = 0; round < ROUNDS; round++) {
      const sessions = Array.from({ length: ATTEMPTS }, (_, i) => new Session(clients[i % CONNECTIONS]!.raw, withOption));
      const outcomes = await Promise.all(
        sessions.map((session, i) =>
          Promise.race([
            session.request({ requestId: 1n, placeLimitOrder: { market: 'BTC-USD', side: SIDE_BUY, price: `${1 + (i % 50)}`, quantity: '0.01' } }).then(() => 'placed'),
            session.ended.then((status) => `${grpc.status[status.code]} ${status.details.split(' ').slice(-8).join(' ')}`),
          ]),
        ),
      );
      const counts = outcomes.reduce<Record<string, number>>((n, o) => ({ ...n, [o]: (n[o] ?? 0) + 1 }), {});
      expect(counts, `round ${round + 1}`).to.deep.equal({
        placed: PER_PEER,
        'RESOURCE_EXHAUSTED open streams (MATCHING_MAX_STREAMS_PER_PEER): close one or retry later': ATTEMPTS - PER_PEER,
      });
      expect(await openOrders()).to.equal(PER_PEER);
      for (const session of sessions) session.cancel().catch(() => undefined);
      await untilNoOpenOrders();
    }
  });

  it(`expires ${GTD_ORDERS} GTD orders as their timers come due, releasing every lock`, async () => {
    const session = new Session(client.raw, metadata);
    const placed: Promise<matching.OrderSessionResponse>[] = [];
    for (let i = 0; i < GTD_ORDERS; i++) {
      // Half a second apart at most: many orders share each instant, and timers fire while orders still come.
      const expireAt = BigInt(Math.ceil((Date.now() + 1_500) / 500) * 500);
      const order = { market: 'BTC-USD', side: SIDE_BUY, price: `${1 + (i % 100)}`, quantity: '0.01', timeInForce: matching.TimeInForce.TIME_IN_FORCE_GTD, expireAtUnixMs: expireAt };
      placed.push(session.request({ requestId: BigInt(i + 1), placeLimitOrder: order }));
      if (i % 200 === 199) await Promise.all(placed.slice(-200));
    }
    const answers = await Promise.all(placed);
    expect(answers.filter((a) => a.error !== undefined).map((a) => a.error!.message)).to.deep.equal([]);
    await session.end();
    await untilNoOpenOrders();
    const expired = await client.listOrders({ pageSize: 1000 }, metadata);
    expect(expired.orders.every((o) => o.cancelReason === matching.CancelReason.CANCEL_REASON_EXPIRED)).to.equal(true);
    expect((await client.getBalances(metadata)).balances).to.deep.equal([{ asset: 'USD', available: '1000000', locked: '0' }]);
  });

  it(`keeps one dead-man switch however often it is renewed (${RENEWALS} times), and it fires once`, async () => {
    const orders = [];
    for (let i = 0; i < 5; i++) orders.push((await client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '2', quantity: '1' }, metadata)).order!.orderId);
    let last = 0n;
    for (let i = 0; i < RENEWALS; i++) {
      const { triggerTimeUnixMs } = await client.cancelAllOrdersAfter({ timeoutSeconds: 60 + (i % 30) }, metadata);
      expect(triggerTimeUnixMs > 0n).to.equal(true);
      last = triggerTimeUnixMs;
    }
    expect(last > 0n).to.equal(true);
    expect(await openOrders()).to.equal(orders.length);
    await client.cancelAllOrdersAfter({ timeoutSeconds: 1 }, metadata);
    await untilNoOpenOrders();
    for (const orderId of orders) {
      expect((await client.getOrder({ orderId }, metadata)).order!.cancelReason).to.equal(matching.CancelReason.CANCEL_REASON_DEAD_MAN);
    }
    // Fired and disarmed: a new order stays.
    const after = (await client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '2', quantity: '1' }, metadata)).order!.orderId;
    await sleep(1_500);
    expect((await client.getOrder({ orderId: after }, metadata)).order!.status).to.equal(matching.OrderStatus.ORDER_STATUS_OPEN);
    await client.cancelOrder({ orderId: after }, metadata);
  });

  it(`sends ${PARKED_STOPS} stop orders: ${STOPS_PER_USER_MARKET} wait, the rest are refused; a trade triggers at most ${TRIGGERS_PER_COMMAND}, the next the rest; one cancel-all clears them`, async () => {
    const untriggered = async () =>
      (await client.listOrders({ status: OPEN, pageSize: 1000 }, metadata)).orders.filter((o) => o.status === matching.OrderStatus.ORDER_STATUS_UNTRIGGERED).length;
    // 100 buy stops at 100, limit 1: once triggered they rest at 1, trading with nobody.
    for (let i = 0; i < 100; i++) await client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '1', quantity: '0.01', stopPrice: '100' }, metadata);
    await client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '100', quantity: '0.02' }, bob);
    const trade = () => client.placeMarketOrder({ market: 'BTC-USD', side: SIDE_BUY, quantity: '0.01' }, carol);
    await trade();
    expect(await untriggered()).to.equal(100 - TRIGGERS_PER_COMMAND);
    await trade();
    expect(await untriggered()).to.equal(0);

    // Descending stop prices: each new buy stop goes before all the others waiting.
    const session = new Session(client.raw, metadata);
    const placed: Promise<matching.OrderSessionResponse>[] = [];
    for (let i = 0; i < PARKED_STOPS; i++) {
      const stopPrice = `${200 + PARKED_STOPS - i}`;
      placed.push(session.request({ requestId: BigInt(i + 1), placeLimitOrder: { market: 'BTC-USD', side: SIDE_BUY, price: '1', quantity: '0.01', stopPrice } }));
      if (i % 200 === 199) await Promise.all(placed.slice(-200));
    }
    const refusals = (await Promise.all(placed)).filter((a) => a.error !== undefined).map((a) => `${grpc.status[a.error!.code]} ${a.error!.message}`);
    expect(refusals).to.have.length(PARKED_STOPS - STOPS_PER_USER_MARKET);
    expect(new Set(refusals)).to.deep.equal(
      new Set([`FAILED_PRECONDITION stop_price: ${STOPS_PER_USER_MARKET} stop orders are already waiting in BTC-USD, the most one user may have: cancel one first`]),
    );
    await session.end();
    const { cancelledCount } = await client.cancelAllOrders({}, metadata);
    expect(cancelledCount).to.equal(STOPS_PER_USER_MARKET + 100);
    expect((await client.getBalances(metadata)).balances).to.deep.equal([{ asset: 'USD', available: '1000000', locked: '0' }]);
  });

  it(`stayed within ${RSS_LIMIT_MB} MiB of memory and serves`, async () => {
    expect(peakRss, 'RSS in MiB').to.be.below(RSS_LIMIT_MB);
    expect(peakRss, 'RSS was sampled').to.be.above(0);
    expect((await client.getOrderBook({ market: 'BTC-USD' })).bids).to.deep.equal([]);
  });
});
