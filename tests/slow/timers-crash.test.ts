import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import type { RunningAuthServer } from '@orderbook/auth-service';
import { matching } from '@orderbook/proto';
import { AuthClient, bearer, MatchingClient } from '@orderbook/test-support';
import { Session } from '../e2e/support/session';
import { StreamReader } from '../e2e/support/stream-reader';
import { startTestAuth, testMatchingEnv } from '../support/in-process-services';
import { startMatchingProcess, type ServingMatchingProcess } from '../support/matching-process';

/**
 * Timers and stop triggers are journaled commands: the matching process is SIGKILLed the moment
 * its last GTD expiry and dead-man cancel were delivered (events go out only once durable), right
 * after a trade triggered a stop, and while a dead-man switch is armed. Restarted on the same
 * data directory (through a snapshot and a journal tail), it must hold exactly what it told its
 * clients: no expired order back, no triggered stop waiting again, and the armed switch still fires.
 */
const ADMIN_PASSWORD = 'admin-password-for-tests';
const SHORT_GTD = 12;
const FAR_GTD = 40;
const RUN_OF_EXPIRIES = 300;
const KILL_AFTER_EXPIRIES = 120;
const { SIDE_BUY, SIDE_SELL } = matching.Side;
const { ORDER_STATUS_OPEN, ORDER_STATUS_CANCELLED, ORDER_STATUS_UNTRIGGERED } = matching.OrderStatus;
const { CANCEL_REASON_EXPIRED, CANCEL_REASON_DEAD_MAN } = matching.CancelReason;

interface Trader {
  readonly userId: string;
  readonly metadata: grpc.Metadata;
}

type Updates = StreamReader<matching.StreamOrderUpdatesResponse>;

function units(decimal: string): bigint {
  const [integer, fraction = ''] = decimal.split('.');
  return BigInt(integer + fraction.padEnd(8, '0'));
}

const cancelledFor = (messages: readonly matching.StreamOrderUpdatesResponse[], ids: readonly bigint[], reason: matching.CancelReason): boolean =>
  ids.every((id) => messages.some((m) => m.order?.orderId === id && m.order.cancelReason === reason));

describe('timers and stop triggers across a SIGKILL of the matching process', function () {
  this.timeout(120_000);
  let dir: string;
  let auth: RunningAuthServer;
  let authClient: AuthClient;
  let env: NodeJS.ProcessEnv;
  let service: ServingMatchingProcess | undefined;
  let client: MatchingClient;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orderbook-timers-crash-'));
    auth = await startTestAuth(dir, ADMIN_PASSWORD);
    authClient = new AuthClient(auth.address);
    // Snapshots every few commands: recovery reads a snapshot holding timers and stops, then a tail.
    env = { ...testMatchingEnv(dir, auth), MATCHING_SNAPSHOT_EVERY: '10', LOG_LEVEL: 'info' };
  });

  after(async () => {
    client?.close();
    service?.child.kill('SIGKILL');
    authClient.close();
    await auth.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function trader(name: string): Promise<Trader> {
    await authClient.signUp({ username: name, email: `${name}@example.com`, password: `password-${name}` });
    const { tokens, user } = await authClient.signIn({ login: name, password: `password-${name}` });
    return { userId: user!.id, metadata: bearer(tokens!.accessToken) };
  }

  /** An order-updates reader that has seen a first event of its own, so that nothing after it is missed. */
  async function subscribed(who: Trader): Promise<Updates> {
    const updates = new StreamReader(client.raw.streamOrderUpdates({ market: '' }, who.metadata));
    for (;;) {
      const { order } = await client.placeLimitOrder({ market: 'ETH-USD', side: SIDE_BUY, price: '0.01', quantity: '1' }, who.metadata);
      await client.cancelOrder({ orderId: order!.orderId }, who.metadata);
      const seen = await Promise.race([updates.until((m) => m.some((u) => u.order?.orderId === order!.orderId)).then(() => true), sleep(500).then(() => false)]);
      if (seen) return updates;
    }
  }

  const buy = (who: Trader, price: string, extra: Partial<matching.PlaceLimitOrderRequest> = {}) =>
    client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price, quantity: '1', ...extra }, who.metadata).then((r) => r.order!);
  const state = async (who: Trader) => ({
    orders: (await client.listOrders({ pageSize: 1000 }, who.metadata)).orders,
    balances: (await client.getBalances(who.metadata)).balances,
  });

  it('holds what was acknowledged: expiries, dead-man cancels and triggered stops; an armed switch fires after the restart', async () => {
    service = await startMatchingProcess(env);
    client = new MatchingClient(service.address);
    const { tokens } = await authClient.signIn({ login: 'admin', password: ADMIN_PASSWORD });
    const admin = bearer(tokens!.accessToken);
    const [alice, bob, carol, dave] = [await trader('alice'), await trader('bob'), await trader('carol'), await trader('dave')];
    for (const who of [alice, bob, carol, dave]) {
      for (const [asset, amount] of [['USD', '100000'], ['BTC', '100'], ['ETH', '100']] as const) {
        await client.addFunds({ userId: who.userId, asset, amount }, admin);
      }
    }
    const aliceUpdates = await subscribed(alice);
    const daveUpdates = await subscribed(dave);

    // Stops: a trade at 100 triggers alice's stop at 100 (it rests at 90), not hers at 105.
    await client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '100', quantity: '1' }, bob.metadata);
    const triggered = await buy(alice, '90', { stopPrice: '100' });
    const waiting = await buy(alice, '110', { stopPrice: '105' });
    const traded = await client.placeMarketOrder({ market: 'BTC-USD', side: SIDE_BUY, quantity: '0.5' }, carol.metadata);
    expect(traded.trades).to.have.length(1);
    expect((await client.getOrder({ orderId: triggered.orderId }, alice.metadata)).order!.status).to.equal(ORDER_STATUS_OPEN);
    expect((await client.getOrder({ orderId: waiting.orderId }, alice.metadata)).order!.status).to.equal(ORDER_STATUS_UNTRIGGERED);
    const far = await buy(alice, '10', { timeInForce: matching.TimeInForce.TIME_IN_FORCE_GTD, expireAtUnixMs: BigInt(Date.now() + 3_600_000) });
    const aliceBefore = await state(alice);

    // A dead-man switch that fires now and GTD orders expiring now; then one armed just before the kill, which must survive it.
    const carolOrders = [await buy(carol, '20'), await buy(carol, '21')].map((o) => o.orderId);
    const daveOrders = [await buy(dave, '30'), await buy(dave, '31'), await buy(dave, '32')].map((o) => o.orderId);
    await client.cancelAllOrdersAfter({ timeoutSeconds: 1 }, dave.metadata);
    const soon = Date.now() + 1_200;
    const expiring: bigint[] = [];
    for (let i = 0; i < SHORT_GTD; i++) {
      expiring.push((await buy(alice, `${40 + i}`, { timeInForce: matching.TimeInForce.TIME_IN_FORCE_GTD, expireAtUnixMs: BigInt(soon + i * 40) })).orderId);
    }
    await daveUpdates.until((m) => cancelledFor(m, daveOrders, CANCEL_REASON_DEAD_MAN));
    await aliceUpdates.until((m) => cancelledFor(m, expiring, CANCEL_REASON_EXPIRED));
    const carolArmed = await client.cancelAllOrdersAfter({ timeoutSeconds: 5 }, carol.metadata);
    // Last, a trade at 105 that triggers alice's other stop: killed as soon as it is acknowledged.
    await client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '105', quantity: '0.5' }, bob.metadata);
    const trigger = await client.placeMarketOrder({ market: 'BTC-USD', side: SIDE_BUY, quantity: '1' }, dave.metadata);
    service.child.kill('SIGKILL');
    await service.exited;
    aliceUpdates.stream.cancel();
    daveUpdates.stream.cancel();
    client.close();
    expect(Date.now(), 'the kill came before carol\'s switch was due').to.be.below(Number(carolArmed.triggerTimeUnixMs));

    service = await startMatchingProcess(env);
    client = new MatchingClient(service.address);
    const recovered = service.log.find((e) => e.msg === 'loaded snapshot');
    expect(recovered, 'recovery started from a snapshot').to.not.equal(undefined);
    // Alice: every expired order stays expired; both triggered stops rest (the last one triggered
    // by the last command acknowledged); the rest, and her balances, as before the GTD orders
    // (their expiries released all; a triggered stop keeps its lock).
    const aliceAfter = await state(alice);
    const expired = aliceAfter.orders.filter((o) => expiring.includes(o.orderId));
    expect(expired.map((o) => [o.status, o.cancelReason, o.lockedAmount])).to.deep.equal(
      Array(SHORT_GTD).fill([ORDER_STATUS_CANCELLED, CANCEL_REASON_EXPIRED, '0']),
    );
    const others = (orders: readonly matching.Order[]) => orders.filter((o) => !expiring.includes(o.orderId) && o.orderId !== waiting.orderId);
    expect(others(aliceAfter.orders)).to.deep.equal(others(aliceBefore.orders));
    expect(trigger.trades.map((t) => t.price)).to.deep.equal(['100', '105']);
    expect(aliceAfter.orders.find((o) => o.orderId === waiting.orderId)).to.include({ status: ORDER_STATUS_OPEN, filledQuantity: '0', lockedAmount: '110' });
    expect(aliceAfter.balances).to.deep.equal(aliceBefore.balances);
    expect(aliceBefore.orders.find((o) => o.orderId === far.orderId)!.status).to.equal(ORDER_STATUS_OPEN);
    // Dave: the switch's cancels stay; nothing of his is locked.
    for (const orderId of daveOrders) {
      expect((await client.getOrder({ orderId }, dave.metadata)).order).to.include({ status: ORDER_STATUS_CANCELLED, cancelReason: CANCEL_REASON_DEAD_MAN });
    }
    expect((await client.getBalances(dave.metadata)).balances.every((b) => b.locked === '0')).to.equal(true);
    // Carol: the switch armed before the crash fires at its time (or at once, if it came due while the service was down).
    for (const orderId of carolOrders) {
      for (;;) {
        const { order } = await client.getOrder({ orderId }, carol.metadata);
        if (order!.status !== ORDER_STATUS_OPEN) {
          expect(order).to.include({ status: ORDER_STATUS_CANCELLED, cancelReason: CANCEL_REASON_DEAD_MAN });
          expect(order!.updatedAtUnixMs >= carolArmed.triggerTimeUnixMs).to.equal(true);
          break;
        }
        await sleep(100);
      }
    }

    client.close();
    service.child.kill('SIGTERM');
    await service.exited;
    service = undefined;
  });
  it(`keeps every expiry it reported when killed in the middle of a run of them, and fires the rest after the restart`, async () => {
    service = await startMatchingProcess(env);
    client = new MatchingClient(service.address);
    const { tokens } = await authClient.signIn({ login: 'admin', password: ADMIN_PASSWORD });
    const eve = await trader('eve');
    await client.addFunds({ userId: eve.userId, asset: 'USD', amount: '100000' }, bearer(tokens!.accessToken));
    const updates = await subscribed(eve);
    const session = new Session(client.raw, eve.metadata);
    const gtd = (i: number, expireAt: number) =>
      session.request({
        requestId: BigInt(i + 1),
        placeLimitOrder: { market: 'BTC-USD', side: SIDE_BUY, price: `${1 + (i % 90)}`, quantity: '0.1', timeInForce: matching.TimeInForce.TIME_IN_FORCE_GTD, expireAtUnixMs: BigInt(expireAt) },
      });
    const start = Date.now();
    const far = await Promise.all(Array.from({ length: FAR_GTD }, (_, i) => gtd(i, start + 3_600_000)));
    const short = await Promise.all(Array.from({ length: RUN_OF_EXPIRIES }, (_, i) => gtd(FAR_GTD + i, Date.now() + 1_000 + 4 * i)));
    const shortIds = short.map((r) => r.placeLimitOrder!.order!.orderId);
    const expiredBeforeKill = (m: readonly matching.StreamOrderUpdatesResponse[]) =>
      m.filter((u) => u.order?.cancelReason === CANCEL_REASON_EXPIRED && shortIds.includes(u.order.orderId));
    await updates.until((m) => expiredBeforeKill(m).length >= KILL_AFTER_EXPIRIES);
    service.child.kill('SIGKILL');
    await service.exited;
    const reported = new Map(expiredBeforeKill(updates.messages).map((u) => [u.order!.orderId, u.order!]));
    session.cancel().catch(() => undefined);
    updates.stream.cancel();
    client.close();

    service = await startMatchingProcess(env);
    client = new MatchingClient(service.address);
    const open = async () => (await client.listOrders({ status: matching.OrderStatusFilter.ORDER_STATUS_FILTER_OPEN, pageSize: 1000 }, eve.metadata)).orders;
    while ((await open()).length > FAR_GTD) await sleep(100);
    expect((await open()).map((o) => o.orderId).sort()).to.deep.equal(far.map((r) => r.placeLimitOrder!.order!.orderId).sort());
    for (const [orderId, before] of reported) {
      // The same order as reported: not brought back and expired a second time, later.
      expect((await client.getOrder({ orderId }, eve.metadata)).order).to.deep.equal(before);
    }
    for (const orderId of shortIds) {
      const { order } = await client.getOrder({ orderId }, eve.metadata);
      expect(order).to.include({ status: ORDER_STATUS_CANCELLED, cancelReason: CANCEL_REASON_EXPIRED, lockedAmount: '0' });
      expect(order!.updatedAtUnixMs >= order!.expireAtUnixMs).to.equal(true);
    }
    const locked = far.reduce((sum, r) => sum + units(r.placeLimitOrder!.order!.lockedAmount), 0n);
    const usd = (await client.getBalances(eve.metadata)).balances.find((b) => b.asset === 'USD')!;
    expect([units(usd.locked), units(usd.available) + units(usd.locked)]).to.deep.equal([locked, units('100000')]);

    client.close();
    service.child.kill('SIGTERM');
    await service.exited;
    service = undefined;
  });
});
