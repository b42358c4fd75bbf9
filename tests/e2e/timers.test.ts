import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { expectStatus } from '@orderbook/test-support';
import { Session } from './support/session';
import { StreamReader } from './support/stream-reader';
import { TestStack, type Trader } from './support/test-stack';

const { SIDE_BUY, SIDE_SELL } = matching.Side;
const { TIME_IN_FORCE_GTD, TIME_IN_FORCE_GTC } = matching.TimeInForce;
const { CANCEL_REASON_EXPIRED, CANCEL_REASON_DEAD_MAN, CANCEL_REASON_DISCONNECT } = matching.CancelReason;
const { ORDER_STATUS_OPEN, ORDER_STATUS_CANCELLED, ORDER_STATUS_FILLED } = matching.OrderStatus;
const CHILD = join(__dirname, 'support', 'session-child.ts');

/** The trader's metadata with cancel-on-disconnect set to `value`. */
function withCancelOnDisconnect(trader: Trader, value: string): grpc.Metadata {
  const metadata = trader.metadata.clone();
  metadata.set('cancel-on-disconnect', value);
  return metadata;
}

/** Order updates of one trader, read in the background. */
function updatesOf(stack: TestStack, trader: Trader): StreamReader<matching.StreamOrderUpdatesResponse> {
  return new StreamReader(stack.client.raw.streamOrderUpdates({ market: '' }, trader.metadata));
}

/** A client process (support/session-child.ts) whose cancel-on-disconnect session placed one buy of 1 BTC at `price`. */
async function sessionChild(stack: TestStack, trader: Trader, price: string): Promise<{ child: ChildProcess; orderId: bigint }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=orderbook-ts', CHILD, stack.matching.address, trader.token, 'BTC-USD', price, '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const orderId = await new Promise<bigint>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => resolve(BigInt(chunk.toString().trim())));
    child.on('exit', () => reject(new Error(`the child exited before placing its order: ${stderr}`)));
  });
  return { child, orderId };
}

/** Resolves once the order was cancelled for `reason`, as StreamOrderUpdates reports it. */
async function cancelledFor(updates: StreamReader<matching.StreamOrderUpdatesResponse>, orderId: bigint, reason: matching.CancelReason): Promise<void> {
  await updates.until((m) => m.some((u) => u.order?.orderId === orderId && u.order.cancelReason === reason));
}

describe('timers: GTD orders, the dead-man switch and cancel on disconnect, through gRPC', () => {
  let stack: TestStack;
  let alice: Trader;
  let bob: Trader;

  before(async () => {
    stack = await TestStack.start();
    alice = await stack.newTrader('alice');
    bob = await stack.newTrader('bob');
    await stack.fund(alice, 'USD', '10000');
    await stack.fund(bob, 'USD', '10000');
    await stack.fund(bob, 'BTC', '10');
  });
  after(() => stack.stop());

  const buy = (trader: Trader, price: string, extra: Partial<matching.PlaceLimitOrderRequest> = {}) =>
    stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price, quantity: '1', ...extra }, trader.metadata);

  it('expires a GTD order at its time, releasing its funds, and shows the expiry and the reason', async () => {
    const updates = updatesOf(stack, alice);
    const expireAt = BigInt(Date.now() + 700);
    const { order } = await buy(alice, '100', { timeInForce: TIME_IN_FORCE_GTD, expireAtUnixMs: expireAt });
    expect(order).to.include({ status: ORDER_STATUS_OPEN, timeInForce: TIME_IN_FORCE_GTD, expireAtUnixMs: expireAt, lockedAmount: '100' });
    expect((await stack.client.getOrder({ orderId: order!.orderId }, alice.metadata)).order!.expireAtUnixMs).to.equal(expireAt);
    await cancelledFor(updates, order!.orderId, CANCEL_REASON_EXPIRED);
    const got = (await stack.client.getOrder({ orderId: order!.orderId }, alice.metadata)).order!;
    expect(got).to.include({ status: ORDER_STATUS_CANCELLED, cancelReason: CANCEL_REASON_EXPIRED, lockedAmount: '0' });
    expect(got.updatedAtUnixMs >= expireAt).to.equal(true);
    expect((await stack.balances(alice)).USD).to.deep.equal(['10000', '0']);
    // A GTC order has no expiry.
    const gtc = (await buy(alice, '1')).order!;
    expect(gtc).to.include({ timeInForce: TIME_IN_FORCE_GTC, expireAtUnixMs: 0n });
    await stack.client.cancelOrder({ orderId: gtc.orderId }, alice.metadata);
    updates.stream.cancel();
  });

  it('refuses a GTD order without an expiry, one in the past or too far, and an expiry on another time in force, naming the field', async () => {
    const now = Date.now();
    const cases: Array<[Partial<matching.PlaceLimitOrderRequest>, RegExp]> = [
      [{ timeInForce: TIME_IN_FORCE_GTD }, /^expire_at_unix_ms: is required with time_in_force GTD$/],
      [{ timeInForce: TIME_IN_FORCE_GTD, expireAtUnixMs: BigInt(now - 1000) }, /^expire_at_unix_ms: must be after the time of placement/],
      [{ timeInForce: TIME_IN_FORCE_GTD, expireAtUnixMs: BigInt(now + 91 * 86_400_000) }, /^expire_at_unix_ms: must be at most 90 days/],
      [{ timeInForce: TIME_IN_FORCE_GTD, expireAtUnixMs: -5n }, /^expire_at_unix_ms: must be a time in Unix milliseconds, got -5$/],
      [{ timeInForce: TIME_IN_FORCE_GTD, expireAtUnixMs: 2n ** 63n - 1n }, /^expire_at_unix_ms: must be a time in Unix milliseconds/],
      [{ expireAtUnixMs: BigInt(now + 60_000) }, /^expire_at_unix_ms: only an order with time_in_force GTD expires$/],
      [{ timeInForce: 9 as matching.TimeInForce }, /^time_in_force: unknown value 9/],
    ];
    for (const [extra, message] of cases) await expectStatus(buy(alice, '100', extra), grpc.status.INVALID_ARGUMENT, message);
    expect((await stack.balances(alice)).USD).to.deep.equal(['10000', '0']);
  });

  it('arms, renews and disarms the dead-man switch, answering when it fires; refuses bad timeouts and strangers', async () => {
    const armed = await stack.client.cancelAllOrdersAfter({ timeoutSeconds: 60 }, alice.metadata);
    expect(armed.triggerTimeUnixMs - armed.currentTimeUnixMs).to.equal(60_000n);
    const renewed = await stack.client.cancelAllOrdersAfter({ timeoutSeconds: 30 }, alice.metadata);
    expect(renewed.triggerTimeUnixMs - renewed.currentTimeUnixMs).to.equal(30_000n);
    const disarmed = await stack.client.cancelAllOrdersAfter({ timeoutSeconds: 0 }, alice.metadata);
    expect(disarmed.triggerTimeUnixMs).to.equal(0n);
    await expectStatus(stack.client.cancelAllOrdersAfter({ timeoutSeconds: 86_401 }, alice.metadata), grpc.status.INVALID_ARGUMENT, /^timeout_seconds: must be 0 \(disarm\) to 86400/);
    await expectStatus(stack.client.cancelAllOrdersAfter({ timeoutSeconds: 2 ** 32 - 1 }, alice.metadata), grpc.status.INVALID_ARGUMENT, /^timeout_seconds: /);
    await expectStatus(stack.client.cancelAllOrdersAfter({ timeoutSeconds: 5 }), grpc.status.UNAUTHENTICATED);
  });

  it('cancels all of the caller\'s open orders when the switch fires, waiting stops and both orders of a pair too, and no one else\'s', async () => {
    const updates = updatesOf(stack, alice);
    const first = (await buy(alice, '90')).order!.orderId;
    await stack.client.cancelAllOrdersAfter({ timeoutSeconds: 1 }, alice.metadata);
    const second = (await buy(alice, '91')).order!.orderId;
    const stop = (await buy(alice, '95', { stopPrice: '300' })).order!.orderId;
    const pair = await stack.client.placeOcoOrder({ market: 'BTC-USD', side: SIDE_BUY, quantity: '1', price: '50', stopPrice: '310' }, alice.metadata);
    const bobs = (await buy(bob, '89')).order!.orderId;
    for (const id of [first, second, stop, pair.order!.orderId, pair.stopOrder!.orderId]) await cancelledFor(updates, id, CANCEL_REASON_DEAD_MAN);
    expect((await stack.client.getOrder({ orderId: bobs }, bob.metadata)).order!.status).to.equal(ORDER_STATUS_OPEN);
    expect((await stack.balances(alice)).USD).to.deep.equal(['10000', '0']);
    await stack.client.cancelOrder({ orderId: bobs }, bob.metadata);
    updates.stream.cancel();
  });

  it('cancels the session\'s open orders when the client cancels a cancel-on-disconnect session; not its filled ones, nor others', async () => {
    const updates = updatesOf(stack, alice);
    const session = new Session(stack.client.raw, withCancelOnDisconnect(alice, 'true'));
    const open = (await session.request({ requestId: 1n, placeLimitOrder: { market: 'BTC-USD', side: SIDE_BUY, price: '95', quantity: '1' } })).placeLimitOrder!.order!;
    await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '96', quantity: '1' }, bob.metadata);
    const filled = (await session.request({ requestId: 2n, placeLimitOrder: { market: 'BTC-USD', side: SIDE_BUY, price: '96', quantity: '1' } })).placeLimitOrder!.order!;
    expect(filled.status).to.equal(ORDER_STATUS_FILLED);
    const unary = (await buy(alice, '94')).order!.orderId;
    expect((await session.cancel()).code).to.equal(grpc.status.CANCELLED);
    await cancelledFor(updates, open.orderId, CANCEL_REASON_DISCONNECT);
    expect((await stack.client.getOrder({ orderId: unary }, alice.metadata)).order!.status).to.equal(ORDER_STATUS_OPEN);
    expect((await stack.client.getOrder({ orderId: filled.orderId }, alice.metadata)).order!.status).to.equal(ORDER_STATUS_FILLED);
    await stack.client.cancelOrder({ orderId: unary }, alice.metadata);
    updates.stream.cancel();
  });

  it('cancels the waiting stops and the pairs a cancel-on-disconnect session placed, releasing their funds', async () => {
    const updates = updatesOf(stack, alice);
    const before = await stack.balances(alice);
    const session = new Session(stack.client.raw, withCancelOnDisconnect(alice, 'true'));
    const stopLimit = (await session.request({ requestId: 1n, placeLimitOrder: { market: 'BTC-USD', side: SIDE_BUY, price: '500', quantity: '1', stopPrice: '499' } }))
      .placeLimitOrder!.order!;
    const stopMarket = (await session.request({ requestId: 2n, placeMarketOrder: { market: 'BTC-USD', side: SIDE_BUY, quantity: '1', stopPrice: '480' } }))
      .placeMarketOrder!.order!;
    const pair = (await session.request({ requestId: 3n, placeOcoOrder: { market: 'BTC-USD', side: SIDE_BUY, quantity: '1', price: '50', stopPrice: '490' } }))
      .placeOcoOrder!;
    expect([stopLimit.status, stopMarket.status, pair.stopOrder!.status]).to.deep.equal(Array(3).fill(matching.OrderStatus.ORDER_STATUS_UNTRIGGERED));
    await session.cancel();
    for (const id of [stopLimit.orderId, stopMarket.orderId, pair.order!.orderId, pair.stopOrder!.orderId]) {
      await cancelledFor(updates, id, CANCEL_REASON_DISCONNECT);
    }
    expect(await stack.balances(alice)).to.deep.equal(before);
    updates.stream.cancel();
  });

  it('leaves the orders of a session without the option, or with it false, when it ends; refuses another value', async () => {
    for (const metadata of [alice.metadata, withCancelOnDisconnect(alice, 'false')]) {
      const session = new Session(stack.client.raw, metadata);
      const id = (await session.request({ requestId: 1n, placeLimitOrder: { market: 'BTC-USD', side: SIDE_BUY, price: '80', quantity: '1' } })).placeLimitOrder!.order!.orderId;
      await session.cancel();
      // A later command on the same sequence: a cancel of the session's orders would have come before it.
      await buy(alice, '1').then(({ order }) => stack.client.cancelOrder({ orderId: order!.orderId }, alice.metadata));
      expect((await stack.client.getOrder({ orderId: id }, alice.metadata)).order!.status).to.equal(ORDER_STATUS_OPEN);
      await stack.client.cancelOrder({ orderId: id }, alice.metadata);
    }
    const bad = new Session(stack.client.raw, withCancelOnDisconnect(alice, 'yes'));
    const status = await bad.ended;
    expect([status.code, status.details]).to.deep.equal([grpc.status.INVALID_ARGUMENT, 'cancel-on-disconnect: request metadata must be "true" or "false", once']);
  });

  it('cancels the orders of a client process that is killed (SIGKILL) in the middle of its session', async function () {
    this.timeout(60_000);
    const updates = updatesOf(stack, alice);
    const { child, orderId } = await sessionChild(stack, alice, '70');
    expect((await stack.client.getOrder({ orderId }, alice.metadata)).order!.status).to.equal(ORDER_STATUS_OPEN);
    const exited = new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    expect(await exited).to.equal('SIGKILL');
    await cancelledFor(updates, orderId, CANCEL_REASON_DISCONNECT);
    updates.stream.cancel();
  });

  it('keeps the orders of a cancel-on-disconnect session across a server restart: a shutdown is not a disconnect', async () => {
    const session = new Session(stack.client.raw, withCancelOnDisconnect(alice, 'true'));
    const id = (await session.request({ requestId: 1n, placeLimitOrder: { market: 'BTC-USD', side: SIDE_BUY, price: '60', quantity: '1' } })).placeLimitOrder!.order!.orderId;
    await stack.restartMatching();
    expect((await session.ended).code).to.equal(grpc.status.UNAVAILABLE);
    expect((await stack.client.getOrder({ orderId: id }, alice.metadata)).order!.status).to.equal(ORDER_STATUS_OPEN);
    await stack.client.cancelOrder({ orderId: id }, alice.metadata);
  });
});

describe('cancel on disconnect: a client that freezes without closing its connection', () => {
  let stack: TestStack;
  let carol: Trader;
  let child: ChildProcess | undefined;

  before(async () => {
    // The shortest keepalive the service accepts: a ping every second, a second to answer it.
    stack = await TestStack.start({ matchingEnv: { MATCHING_GRPC_KEEPALIVE_TIME_MS: '1000', MATCHING_GRPC_KEEPALIVE_TIMEOUT_MS: '1000' } });
    carol = await stack.newTrader('carol');
    await stack.fund(carol, 'USD', '1000');
  });
  after(async () => {
    child?.kill('SIGKILL');
    await stack.stop();
  });

  it('cancels its session\'s orders once the server\'s keepalive pings go unanswered (the client process stopped, SIGSTOP)', async function () {
    this.timeout(60_000);
    const updates = updatesOf(stack, carol);
    const { child: spawned, orderId } = await sessionChild(stack, carol, '70');
    child = spawned;
    const { order: placed } = await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '60', quantity: '1' }, carol.metadata);
    expect((await stack.client.getOrder({ orderId }, carol.metadata)).order!.status).to.equal(ORDER_STATUS_OPEN);
    // Frozen, not dead: its socket stays open (the kernel still acknowledges), only the pings find it gone.
    spawned.kill('SIGSTOP');
    await cancelledFor(updates, orderId, CANCEL_REASON_DISCONNECT);
    expect([spawned.exitCode, spawned.signalCode]).to.deep.equal([null, null]);
    // Only the session's order: the one placed by a unary call stays.
    expect((await stack.client.getOrder({ orderId: placed!.orderId }, carol.metadata)).order!.status).to.equal(ORDER_STATUS_OPEN);
    updates.stream.cancel();
  });
});
