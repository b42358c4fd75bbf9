import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { expectStatus } from '@orderbook/test-support';
import { Health } from './support/health';
import { Session } from './support/session';
import { StreamReader } from './support/stream-reader';
import { TestStack, type Trader } from './support/test-stack';

const { SIDE_BUY, SIDE_SELL } = matching.Side;

/** The value of one sample of the Prometheus text page, e.g. sample(page, 'matching_trades_total{market="BTC-USD"}'). */
function sample(page: string, name: string): number | undefined {
  const line = page.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

async function metricsPage(stack: TestStack): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${stack.matching.metricsPort}/metrics`);
  expect(response.status).to.equal(200);
  return response.text();
}

/** The x-orderbook-sequence header of a unary call's answer, and of a refusal ('' when absent). */
function headerOf(start: (onMetadata: (md: grpc.Metadata) => void, done: () => void) => void): Promise<string> {
  return new Promise((resolve) => {
    let seq = '';
    start(
      (md) => (seq = String(md.get('x-orderbook-sequence')[0] ?? '')),
      () => resolve(seq),
    );
  });
}

describe('service lifecycle: health, metrics, restart, shutdown', () => {
  let stack: TestStack;
  let alice: Trader;
  let bob: Trader;

  before(async () => {
    stack = await TestStack.start();
    alice = await stack.newTrader('alice');
    bob = await stack.newTrader('bob');
    await stack.fund(alice, 'USD', '10000');
    await stack.fund(bob, 'BTC', '10');
  });
  after(() => stack.stop());

  it('reports SERVING through grpc.health.v1, overall and for MatchingService, without a token', async () => {
    const health = new Health(stack.matching.address);
    try {
      expect(await health.check('')).to.equal('SERVING');
      expect(await health.check('orderbook.matching.v1.MatchingService')).to.equal('SERVING');
      await expectStatus(health.check('no.such.Service'), grpc.status.NOT_FOUND);
    } finally {
      health.close();
    }
  });

  it('exports Prometheus metrics: orders placed, trades, rejections by code, queue depth, command latency, process', async () => {
    const cpuBeforeFirst = process.cpuUsage().user;
    const before = await metricsPage(stack);
    const cpuAfterFirst = process.cpuUsage().user;
    const placedBefore = sample(before, 'matching_orders_placed_total{type="limit"}') ?? 0;
    const durationCount = (outcome: string): string => `matching_command_duration_seconds_count{kind="placeLimit",outcome="${outcome}"}`;
    const acceptedBefore = sample(before, durationCount('accepted')) ?? 0;
    const rejectedBefore = sample(before, durationCount('rejected')) ?? 0;
    const callCount = (method: string, code: string): string => `matching_call_duration_seconds_count{method="${method}",code="${code}"}`;
    const callsBefore = (method: string, code: string): number => sample(before, callCount(method, code)) ?? 0;
    await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '100', quantity: '1' }, bob.metadata);
    await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '100', quantity: '0.5' }, alice.metadata);
    await expectStatus(stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '100', quantity: '1000' }, alice.metadata), grpc.status.FAILED_PRECONDITION);
    await expectStatus(stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '-1', quantity: '1' }, alice.metadata), grpc.status.INVALID_ARGUMENT);
    await expectStatus(stack.client.getBalances(new grpc.Metadata()), grpc.status.UNAUTHENTICATED);

    const cpuBeforeSecond = process.cpuUsage().user;
    const page = await metricsPage(stack);
    const cpuAfterSecond = process.cpuUsage().user;
    expect(sample(page, 'matching_orders_placed_total{type="limit"}')).to.equal(placedBefore + 2);
    expect(sample(page, 'matching_trades_total{market="BTC-USD"}')).to.equal(1);
    expect(sample(page, 'matching_commands_rejected_total{code="FAILED_PRECONDITION"}')).to.equal(1);
    expect(sample(page, 'matching_commands_rejected_total{code="INVALID_ARGUMENT"}')).to.equal(1);
    expect(sample(page, 'matching_command_queue_depth')).to.equal(0);
    expect(sample(page, durationCount('accepted'))).to.equal(acceptedBefore + 2);
    // The engine refused one; the INVALID_ARGUMENT never reached it.
    expect(sample(page, durationCount('rejected'))).to.equal(rejectedBefore + 1);
    // Time in the service per unary call, refused tokens included; streams are not timed.
    expect(sample(page, callCount('PlaceLimitOrder', 'OK'))).to.equal(callsBefore('PlaceLimitOrder', 'OK') + 2);
    expect(sample(page, callCount('PlaceLimitOrder', 'FAILED_PRECONDITION'))).to.equal(callsBefore('PlaceLimitOrder', 'FAILED_PRECONDITION') + 1);
    expect(sample(page, callCount('PlaceLimitOrder', 'INVALID_ARGUMENT'))).to.equal(callsBefore('PlaceLimitOrder', 'INVALID_ARGUMENT') + 1);
    expect(sample(page, callCount('GetBalances', 'UNAUTHENTICATED'))).to.equal(callsBefore('GetBalances', 'UNAUTHENTICATED') + 1);
    // The servers run in this process: the CPU the counter gained between the two scrapes lies
    // within what this process used between them (in whole microseconds, as both are measured).
    const cpuGainedMicros = Math.round(((sample(page, 'process_cpu_user_seconds_total') ?? NaN) - (sample(before, 'process_cpu_user_seconds_total') ?? NaN)) * 1e6);
    expect(cpuGainedMicros).to.be.within(cpuBeforeSecond - cpuAfterFirst, cpuAfterSecond - cpuBeforeFirst);

    expect((await fetch(`http://127.0.0.1:${stack.matching.metricsPort}/other`)).status).to.equal(404);
  });

  it('exports what the alert rules compare: journal fsync latency, and each bound beside what it bounds', async () => {
    const syncs = (page: string): number => sample(page, 'matching_journal_fsync_duration_seconds_count') ?? 0;
    const before = await metricsPage(stack);
    await stack.client.placeLimitOrder({ market: 'ETH-USD', side: SIDE_BUY, price: '1', quantity: '1' }, alice.metadata);
    const page = await metricsPage(stack);
    // At least: a command the engine rejected earlier is answered before its record is synced.
    expect(syncs(page), 'an fdatasync for the accepted order').to.be.at.least(syncs(before) + 1);
    expect(sample(page, 'matching_command_queue_limit')).to.equal(10_000);
    expect(sample(page, 'matching_stream_memory_budget_bytes')).to.equal(268_435_456);
    expect(sample(page, 'matching_disk_reserve_bytes')).to.equal(67_108_864);
    expect(sample(page, 'matching_disk_free_bytes')).to.be.greaterThan(67_108_864);
  });

  it("stamps answers with x-orderbook-sequence, the engine seq they reflect: a placement's own seq, a read's current one, a stream's when its answers start", async () => {
    const request = matching.PlaceLimitOrderRequest.fromPartial({ market: 'BTC-USD', side: matching.Side.SIDE_BUY, price: '1', quantity: '1' });
    let orderId = 0n;
    const placed = await headerOf((onMetadata, done) =>
      stack.client.raw.placeLimitOrder(request, alice.metadata, (_err, response) => {
        orderId = response?.order?.orderId ?? 0n;
        done();
      }).on('metadata', onMetadata),
    );
    expect(placed).to.equal(String(orderId));
    const read = await headerOf((onMetadata, done) => stack.client.raw.getBalances({}, alice.metadata, done).on('metadata', onMetadata));
    expect(read).to.equal(placed);
    const stream = stack.client.raw.orderSession(alice.metadata);
    const streamed = new Promise<string>((resolve) => stream.on('metadata', (md: grpc.Metadata) => resolve(String(md.get('x-orderbook-sequence')[0] ?? ''))));
    stream.on('data', () => stream.end());
    stream.write(matching.OrderSessionRequest.fromPartial({ requestId: 1n, cancelOrder: { orderId } }));
    expect(Number(await streamed)).to.be.at.least(Number(placed));
  });

  it('stamps no x-orderbook-sequence on a refused call', async () => {
    const refused = await headerOf((onMetadata, done) => stack.client.raw.getBalances({}, new grpc.Metadata(), () => done()).on('metadata', onMetadata));
    expect(refused).to.equal('');
  });
  it('keeps orders, trades and balances across a graceful restart, and goes on numbering orders', async () => {
    const { order: open } = await stack.client.placeLimitOrder({ market: 'ETH-USD', side: SIDE_BUY, price: '20', quantity: '3', clientOrderId: 'kept' }, alice.metadata);
    const state = async (): Promise<unknown> => ({
      alice: await stack.balances(alice),
      bob: await stack.balances(bob),
      aliceOrders: await stack.client.listOrders({ pageSize: 1000 }, alice.metadata),
      bobOrders: await stack.client.listOrders({ pageSize: 1000 }, bob.metadata),
      btc: await stack.client.getOrderBook({ market: 'BTC-USD', depth: 1000 }),
      eth: await stack.client.getOrderBook({ market: 'ETH-USD', depth: 1000 }),
    });
    const before = await state();

    await stack.restartMatching();

    expect(await state()).to.deep.equal(before);
    expect((await stack.client.getOrder({ orderId: open!.orderId }, alice.metadata)).order).to.deep.equal(open);
    // The retry window survived: a retry gets the order, another order under its id is refused.
    const retried = await stack.client.placeLimitOrder({ market: 'ETH-USD', side: SIDE_BUY, price: '20', quantity: '3', clientOrderId: 'kept' }, alice.metadata);
    expect(retried.order).to.deep.equal(open);
    await expectStatus(
      stack.client.placeLimitOrder({ market: 'ETH-USD', side: SIDE_BUY, price: '1', quantity: '1', clientOrderId: 'kept' }, alice.metadata),
      grpc.status.ALREADY_EXISTS,
    );
    const { order: next } = await stack.client.placeLimitOrder({ market: 'ETH-USD', side: SIDE_BUY, price: '1', quantity: '1' }, alice.metadata);
    expect(next!.orderId > open!.orderId).to.equal(true);
  });

  it('on stop: NOT_SERVING, open streams and sessions end with UNAVAILABLE, new calls are UNAVAILABLE; nothing acknowledged is lost', async () => {
    const session = new Session(stack.client.raw, alice.metadata);
    const placed = await session.request({ requestId: 1n, placeLimitOrder: { market: 'BTC-USD', side: SIDE_BUY, price: '50', quantity: '1' } });
    const trades = new StreamReader(stack.client.raw.streamTrades({ market: 'BTC-USD' }));
    const health = new Health(stack.matching.address);
    const watch = new StreamReader(health.watch(''));
    await watch.until((m) => m.length >= 1);
    expect(watch.messages[0].status).to.equal('SERVING');

    const stopped = stack.matching.stop();
    await watch.until((m) => m.some((s) => s.status === 'NOT_SERVING'));
    watch.cancel();
    const sessionStatus = await session.ended;
    expect(grpc.status[sessionStatus.code]).to.equal('UNAVAILABLE');
    expect(grpc.status[(await trades.ended()).code]).to.equal('UNAVAILABLE');
    await expectStatus(stack.client.getBalances(alice.metadata), grpc.status.UNAVAILABLE);
    await stopped;
    health.close();

    await stack.startMatching();
    const { order } = await stack.client.getOrder({ orderId: placed.placeLimitOrder!.order!.orderId }, alice.metadata);
    expect(order).to.deep.equal(placed.placeLimitOrder!.order);
  });
});

describe('overload: a bounded command queue', () => {
  let stack: TestStack;
  let trader: Trader;

  before(async () => {
    stack = await TestStack.start({ matchingEnv: { MATCHING_MAX_QUEUE_DEPTH: '1' } });
    trader = await stack.newTrader();
  });
  after(() => stack.stop());

  it('answers RESOURCE_EXHAUSTED past the bound, and a refused command changes nothing', async () => {
    const attempts = 200;
    const outcomes = await Promise.allSettled(
      Array.from({ length: attempts }, () => stack.client.addFunds({ userId: trader.userId, asset: 'USD', amount: '1' }, stack.admin.metadata)),
    );
    const codes = outcomes.map((o) => (o.status === 'fulfilled' ? 'OK' : grpc.status[(o.reason as grpc.ServiceError).code]));
    const accepted = codes.filter((c) => c === 'OK').length;
    const refused = codes.filter((c) => c === 'RESOURCE_EXHAUSTED').length;
    expect(accepted + refused, `only OK and RESOURCE_EXHAUSTED: ${[...new Set(codes)].join(', ')}`).to.equal(attempts);
    expect(refused).to.be.above(0);
    expect(accepted).to.be.above(0);
    expect(await stack.balances(trader)).to.deep.equal({ USD: [String(accepted), '0'] });

    const page = await (await fetch(`http://127.0.0.1:${stack.matching.metricsPort}/metrics`)).text();
    expect(sample(page, 'matching_commands_rejected_total{code="RESOURCE_EXHAUSTED"}')).to.equal(refused);
  });
});
