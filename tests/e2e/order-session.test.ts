import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { Session } from './support/session';
import { TestStack, type Trader } from './support/test-stack';

const { SIDE_BUY, SIDE_SELL } = matching.Side;

describe('OrderSession (bidirectional order entry)', () => {
  let stack: TestStack;
  let trader: Trader;
  let other: Trader;

  before(async () => {
    stack = await TestStack.start({ matchingEnv: { MATCHING_SESSION_MAX_IN_FLIGHT: '2' } });
    trader = await stack.newTrader();
    other = await stack.newTrader();
    await stack.fund(trader, 'USD', '100000');
    await stack.fund(trader, 'BTC', '10');
    await stack.fund(other, 'USD', '1000');
    await stack.fund(other, 'BTC', '1');
  });
  after(() => stack.stop());

  it('answers each command once, echoing its request_id, like the unary RPCs', async () => {
    const session = new Session(stack.client.raw, trader.metadata);
    const placed = await session.request({ requestId: 1n, placeLimitOrder: { market: 'BTC-USD', side: SIDE_BUY, price: '100', quantity: '2' } });
    expect(placed.requestId).to.equal(1n);
    expect(placed.placeLimitOrder?.order).to.include({ status: matching.OrderStatus.ORDER_STATUS_OPEN, lockedAmount: '200' });
    const orderId = placed.placeLimitOrder!.order!.orderId;

    const got = await stack.client.getOrder({ orderId }, trader.metadata);
    expect(got.order).to.deep.equal(placed.placeLimitOrder!.order);

    const amended = await session.request({ requestId: 2n, amendOrder: { orderId, quantity: '1.5' } });
    expect(amended.amendOrder?.order).to.include({ orderId, quantity: '1.5', lockedAmount: '150' });

    const maxId = 2n ** 64n - 1n;
    const cancelled = await session.request({ requestId: maxId, cancelOrder: { orderId } });
    expect(cancelled.requestId).to.equal(maxId);
    expect(cancelled.cancelOrder).to.deep.include({ releasedAmount: '150', releasedAsset: 'USD' });

    await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '100', quantity: '1' }, other.metadata);
    const market = await session.request({ requestId: 3n, placeMarketOrder: { market: 'BTC-USD', side: SIDE_BUY, quantity: '0.5' } });
    expect(market.placeMarketOrder?.trades.map((t) => [t.price, t.quantity, t.quoteAmount])).to.deep.equal([['100', '0.5', '50']]);

    const status = await session.end();
    expect(grpc.status[status.code]).to.equal('OK');
    expect(session.responses.map((r) => r.requestId)).to.deep.equal([1n, 2n, maxId, 3n]);
  });

  it('answers a failed command with an OrderSessionError carrying the unary status code, and goes on', async () => {
    const session = new Session(stack.client.raw, trader.metadata);
    const cases: Array<[matching.DeepPartial<matching.OrderSessionRequest>, grpc.status, RegExp]> = [
      [{ requestId: 10n }, grpc.status.INVALID_ARGUMENT, /^command: /],
      [{ requestId: 11n, placeLimitOrder: { market: 'BTC-USD', side: SIDE_BUY, price: '1e3', quantity: '1' } }, grpc.status.INVALID_ARGUMENT, /^price: /],
      [{ requestId: 12n, placeLimitOrder: { market: 'NOPE', side: SIDE_BUY, price: '1', quantity: '1' } }, grpc.status.INVALID_ARGUMENT, /^market: /],
      [{ requestId: 13n, placeLimitOrder: { market: 'BTC-USD', side: SIDE_BUY, price: '1000000', quantity: '1' } }, grpc.status.FAILED_PRECONDITION, /^insufficient USD: /],
      [{ requestId: 14n, cancelOrder: { orderId: 987_654n } }, grpc.status.NOT_FOUND, /^order_id: /],
      [{ requestId: 15n, placeMarketOrder: { market: 'ETH-USD', side: SIDE_BUY, quantity: '1' } }, grpc.status.FAILED_PRECONDITION, /^quantity: insufficient liquidity/],
    ];
    for (const [request, code, message] of cases) {
      const response = await session.request(request);
      expect(response.error, String(request.requestId)).to.not.equal(undefined);
      expect(grpc.status[response.error!.code], String(request.requestId)).to.equal(grpc.status[code]);
      expect(response.error!.message, String(request.requestId)).to.match(message);
    }
    const ok = await session.request({ requestId: 16n, placeLimitOrder: { market: 'BTC-USD', side: SIDE_BUY, price: '1', quantity: '1' } });
    expect(ok.placeLimitOrder?.order?.price).to.equal('1');
    expect(grpc.status[(await session.end()).code]).to.equal('OK');
  });

  it("cannot cancel another user's order: NOT_FOUND, and the order stays", async () => {
    const { order } = await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '2', quantity: '1' }, other.metadata);
    const session = new Session(stack.client.raw, trader.metadata);
    const response = await session.request({ requestId: 1n, cancelOrder: { orderId: order!.orderId } });
    expect(grpc.status[response.error!.code]).to.equal('NOT_FOUND');
    await session.end();
    expect((await stack.client.getOrder({ orderId: order!.orderId }, other.metadata)).order?.status).to.equal(matching.OrderStatus.ORDER_STATUS_OPEN);
  });

  it('cancels all of the caller’s open orders (or one market’s, one side’s) as CancelAllOrders does; another user’s stay', async () => {
    const place = async (who: Trader, market: string, side: matching.Side, price: string) =>
      (await stack.client.placeLimitOrder({ market, side, price, quantity: '1' }, who.metadata)).order!.orderId;
    await stack.client.cancelAllOrders({}, trader.metadata);
    const btcBuy = await place(trader, 'BTC-USD', SIDE_BUY, '3');
    await place(trader, 'BTC-USD', SIDE_SELL, '90000');
    await place(trader, 'SOL-USD', SIDE_BUY, '4');
    const others = await place(other, 'BTC-USD', SIDE_BUY, '3');
    const session = new Session(stack.client.raw, trader.metadata);

    const some = await session.request({ requestId: 1n, cancelAllOrders: { market: 'BTC-USD', side: SIDE_BUY } });
    expect(some.cancelAllOrders).to.deep.equal({ cancelledCount: 1, released: [{ asset: 'USD', amount: '3' }] });
    expect((await stack.client.getOrder({ orderId: btcBuy }, trader.metadata)).order?.cancelReason).to.equal(matching.CancelReason.CANCEL_REASON_USER);

    const bad: Array<[matching.DeepPartial<matching.OrderSessionRequest>, RegExp]> = [
      [{ requestId: 2n, cancelAllOrders: { market: 'DOGE-USD' } }, /^market: /],
      [{ requestId: 3n, cancelAllOrders: { side: 7 as matching.Side } }, /^side: /],
    ];
    for (const [request, message] of bad) {
      const response = await session.request(request);
      expect(grpc.status[response.error!.code], String(request.requestId)).to.equal('INVALID_ARGUMENT');
      expect(response.error!.message, String(request.requestId)).to.match(message);
    }

    const rest = await session.request({ requestId: 4n, cancelAllOrders: {} });
    expect(rest.cancelAllOrders).to.deep.equal({ cancelledCount: 2, released: [{ asset: 'BTC', amount: '1' }, { asset: 'USD', amount: '4' }] });
    expect((await session.request({ requestId: 5n, cancelAllOrders: {} })).cancelAllOrders).to.deep.equal({ cancelledCount: 0, released: [] });
    expect(grpc.status[(await session.end()).code]).to.equal('OK');
    expect((await stack.client.getOrder({ orderId: others }, other.metadata)).order?.status).to.equal(matching.OrderStatus.ORDER_STATUS_OPEN);
    await stack.client.cancelOrder({ orderId: others }, other.metadata);
  });

  it('answers every one of many pipelined commands, with at most 2 in flight (flow control, not errors)', async () => {
    const session = new Session(stack.client.raw, trader.metadata);
    const total = 300;
    for (let i = 0; i < total; i++) {
      session.send({ requestId: BigInt(1000 + i), placeLimitOrder: { market: 'ETH-USD', side: SIDE_BUY, price: `${1 + (i % 10)}`, quantity: '0.1' } });
    }
    const status = await session.end();
    expect(grpc.status[status.code]).to.equal('OK');
    expect(session.responses).to.have.length(total);
    expect(session.responses.filter((r) => r.error !== undefined)).to.deep.equal([]);
    expect(new Set(session.responses.map((r) => r.requestId)).size).to.equal(total);
    const ids = session.responses.map((r) => r.placeLimitOrder!.order!.orderId);
    expect(new Set(ids).size).to.equal(total);
    const open = await stack.client.listOrders({ market: 'ETH-USD', pageSize: 1000 }, trader.metadata);
    expect(open.orders).to.have.length(total);
  });
});

describe('OrderSession within the stream limits', () => {
  let stack: TestStack;
  let trader: Trader;

  before(async () => {
    stack = await TestStack.start({ matchingEnv: { MATCHING_MAX_STREAMS_PER_PEER: '2' } });
    trader = await stack.newTrader();
    await stack.fund(trader, 'USD', '1000');
  });
  after(() => stack.stop());

  /** An open session: its first command answered. */
  async function opened(): Promise<Session> {
    const session = new Session(stack.client.raw, trader.metadata);
    const answer = await session.request({ requestId: 1n, placeLimitOrder: { market: 'BTC-USD', side: SIDE_BUY, price: '1', quantity: '1' } });
    expect(answer.placeLimitOrder?.order?.status).to.equal(matching.OrderStatus.ORDER_STATUS_OPEN);
    return session;
  }

  it('counts each open session as a stream of its client: past the limit RESOURCE_EXHAUSTED, and an ended one gives its place back', async () => {
    const [first, second] = [await opened(), await opened()];
    const refused = await new Session(stack.client.raw, trader.metadata).ended;
    expect([grpc.status[refused.code], refused.details]).to.deep.equal([
      'RESOURCE_EXHAUSTED',
      '127.0.0.1 already has 2 open streams (MATCHING_MAX_STREAMS_PER_PEER): close one or retry later',
    ]);
    // Market data shares the limit.
    const book = stack.client.raw.streamOrderBook({ market: 'BTC-USD', depth: 1 });
    const bookStatus = await new Promise<grpc.StatusObject>((resolve) => {
      book.on('error', () => undefined);
      book.on('status', resolve);
    });
    expect(bookStatus.code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
    await first.end();
    await second.cancel();
    for (const session of [await opened(), await opened()]) await session.end();
  });
});
