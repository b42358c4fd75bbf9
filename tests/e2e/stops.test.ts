import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { expectStatus } from '@orderbook/test-support';
import { refusal } from './support/refusal';
import { Session } from './support/session';
import { TestStack, type Trader } from './support/test-stack';

const { SIDE_BUY, SIDE_SELL } = matching.Side;
const { ORDER_STATUS_UNTRIGGERED, ORDER_STATUS_CANCELLED, ORDER_STATUS_FILLED, ORDER_STATUS_OPEN } = matching.OrderStatus;

/** Stop orders and one-cancels-other pairs through real gRPC: waiting, triggering, refusals, other users. */
describe('stop orders and OCO pairs', () => {
  let stack: TestStack;
  let alice: Trader;
  let bob: Trader;
  let eve: Trader;

  before(async () => {
    stack = await TestStack.start();
    alice = await stack.newTrader('alice');
    bob = await stack.newTrader('bob');
    eve = await stack.newTrader('eve');
    await stack.fund(alice, 'USD', '10000');
    await stack.fund(bob, 'BTC', '10');
    await stack.fund(bob, 'USD', '10000');
    await stack.fund(eve, 'USD', '1000');
  });
  after(() => stack.stop());

  it('a stop-limit waits untriggered, visible and locked, and a later trade at its stop price triggers it', async () => {
    await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '100', quantity: '3' }, bob.metadata);
    const { order } = await stack.client.placeLimitOrder(
      { market: 'BTC-USD', side: SIDE_BUY, price: '101', quantity: '2', stopPrice: '100' },
      alice.metadata,
    );
    expect(order).to.include({ status: ORDER_STATUS_UNTRIGGERED, type: matching.OrderType.ORDER_TYPE_STOP_LIMIT, stopPrice: '100', lockedAmount: '202' });
    expect(await stack.balances(alice)).to.deep.equal({ USD: ['9798', '202'] });
    const open = await stack.client.listOrders({ status: matching.OrderStatusFilter.ORDER_STATUS_FILTER_OPEN }, alice.metadata);
    expect(open.orders.map((o) => o.orderId)).to.deep.equal([order!.orderId]);
    expect((await stack.client.getOrderBook({ market: 'BTC-USD' })).bids).to.deep.equal([]);
    await stack.client.placeMarketOrder({ market: 'BTC-USD', side: SIDE_BUY, quantity: '0.5' }, eve.metadata);
    const after = (await stack.client.getOrder({ orderId: order!.orderId }, alice.metadata)).order;
    expect(after).to.include({ status: ORDER_STATUS_FILLED, filledQuantity: '2', stopPrice: '100', lockedAmount: '0' });
    expect(await stack.balances(alice)).to.deep.equal({ BTC: ['2', '0'], USD: ['9800', '0'] });
  });

  it('a stop-market sell that cannot fill when triggered is cancelled and releases its funds', async () => {
    await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '100', quantity: '1' }, bob.metadata);
    const { order } = await stack.client.placeMarketOrder({ market: 'BTC-USD', side: SIDE_SELL, quantity: '1.5', stopPrice: '100' }, alice.metadata);
    expect(order).to.include({ status: ORDER_STATUS_UNTRIGGERED, type: matching.OrderType.ORDER_TYPE_STOP_MARKET, lockedAmount: '1.5' });
    await stack.client.placeMarketOrder({ market: 'BTC-USD', side: SIDE_BUY, quantity: '0.5' }, eve.metadata);
    expect((await stack.client.getOrder({ orderId: order!.orderId }, alice.metadata)).order).to.include({ status: ORDER_STATUS_CANCELLED, lockedAmount: '0' });
    expect((await stack.balances(alice)).BTC).to.deep.equal(['2', '0']);
  });

  it('refuses bad stop prices naming the field, and never shows or cancels another user\'s stop', async () => {
    const limit = { market: 'BTC-USD', side: SIDE_BUY, price: '1', quantity: '1' };
    for (const stopPrice of ['0', '-1', '1e3', '1'.repeat(10_000), '18446744073709551616', '9007199254.740992']) {
      expect(await refusal(stack.client.placeLimitOrder({ ...limit, stopPrice }, alice.metadata), grpc.status.INVALID_ARGUMENT)).to.deep.equal([
        'INVALID_FIELD',
        'stop_price',
      ]);
      expect(await refusal(stack.client.placeMarketOrder({ market: 'BTC-USD', side: SIDE_SELL, quantity: '1', stopPrice }, alice.metadata), grpc.status.INVALID_ARGUMENT))
        .to.deep.equal(['INVALID_FIELD', 'stop_price']);
    }
    const fok = { ...limit, stopPrice: '1', timeInForce: matching.TimeInForce.TIME_IN_FORCE_FOK };
    expect(await refusal(stack.client.placeLimitOrder(fok, alice.metadata), grpc.status.INVALID_ARGUMENT)).to.deep.equal(['INVALID_FIELD', 'time_in_force']);
    const huge = { market: 'BTC-USD', side: SIDE_BUY, quantity: '90000000', stopPrice: '1000' };
    expect(await refusal(stack.client.placeMarketOrder(huge, alice.metadata), grpc.status.INVALID_ARGUMENT)).to.deep.equal(['INVALID_FIELD', 'quantity']);
    expect((await refusal(stack.client.placeMarketOrder({ ...huge, quantity: '1' }, eve.metadata), grpc.status.FAILED_PRECONDITION))[0]).to.equal('INSUFFICIENT_FUNDS');

    const { order } = await stack.client.placeLimitOrder({ ...limit, stopPrice: '500' }, alice.metadata);
    await expectStatus(stack.client.getOrder({ orderId: order!.orderId }, eve.metadata), grpc.status.NOT_FOUND);
    await expectStatus(stack.client.cancelOrder({ orderId: order!.orderId }, eve.metadata), grpc.status.NOT_FOUND);
    expect(await refusal(stack.client.amendOrder({ orderId: order!.orderId, price: '2' }, alice.metadata), grpc.status.FAILED_PRECONDITION)).to.deep.equal([
      'STOP_NOT_AMENDABLE',
      'stop_price',
    ]);
    const cancelled = await stack.client.cancelOrder({ orderId: order!.orderId }, alice.metadata);
    expect(cancelled).to.deep.include({ releasedAmount: '1', releasedAsset: 'USD' });
  });

  it('places an OCO pair: a fill of its limit order cancels its stop; a cancel of either cancels both', async () => {
    const pair = await stack.client.placeOcoOrder(
      { market: 'BTC-USD', side: SIDE_SELL, quantity: '1', price: '120', stopPrice: '90', stopLimitPrice: '89' },
      alice.metadata,
    );
    expect(pair.order).to.include({ status: ORDER_STATUS_OPEN, price: '120', ocoOrderId: pair.stopOrder!.orderId });
    expect(pair.stopOrder).to.include({ status: ORDER_STATUS_UNTRIGGERED, type: matching.OrderType.ORDER_TYPE_STOP_LIMIT, price: '89', stopPrice: '90' });
    expect((await stack.balances(alice)).BTC).to.deep.equal(['0', '2']);
    await expectStatus(stack.client.cancelOrder({ orderId: pair.stopOrder!.orderId }, eve.metadata), grpc.status.NOT_FOUND);
    expect(await refusal(stack.client.amendOrder({ orderId: pair.order!.orderId, price: '121' }, alice.metadata), grpc.status.FAILED_PRECONDITION)).to.deep.equal([
      'OCO_NOT_AMENDABLE',
      'oco_order_id',
    ]);
    await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '120', quantity: '0.25' }, bob.metadata);
    const stop = (await stack.client.getOrder({ orderId: pair.stopOrder!.orderId }, alice.metadata)).order!;
    expect(stop).to.include({ status: ORDER_STATUS_CANCELLED, cancelReason: matching.CancelReason.CANCEL_REASON_OCO, lockedAmount: '0' });
    expect((await stack.balances(alice)).BTC).to.deep.equal(['1', '0.75']);

    const second = await stack.client.placeOcoOrder({ market: 'BTC-USD', side: SIDE_SELL, quantity: '0.5', price: '130', stopPrice: '80' }, alice.metadata);
    await stack.client.cancelOrder({ orderId: second.order!.orderId }, alice.metadata);
    expect((await stack.client.getOrder({ orderId: second.stopOrder!.orderId }, alice.metadata)).order).to.include({ status: ORDER_STATUS_CANCELLED });
  });

  it('refuses a pair whose stop is on the wrong side of its limit price, or that both locks cannot cover', async () => {
    const pair = { market: 'BTC-USD', side: SIDE_BUY, quantity: '1', price: '100', stopPrice: '90' };
    expect(await refusal(stack.client.placeOcoOrder(pair, alice.metadata), grpc.status.INVALID_ARGUMENT)).to.deep.equal(['INVALID_FIELD', 'stop_price']);
    expect(await refusal(stack.client.placeOcoOrder({ ...pair, stopPrice: '' }, alice.metadata), grpc.status.INVALID_ARGUMENT)).to.deep.equal(['INVALID_FIELD', 'stop_price']);
    expect(await refusal(stack.client.placeOcoOrder({ ...pair, stopLimitPrice: 'x' }, alice.metadata), grpc.status.INVALID_ARGUMENT)).to.deep.equal([
      'INVALID_FIELD',
      'stop_limit_price',
    ]);
    const before = await stack.balances(alice);
    const tooBig = { ...pair, price: '5000', stopPrice: '5001' };
    expect((await refusal(stack.client.placeOcoOrder(tooBig, alice.metadata), grpc.status.FAILED_PRECONDITION))[0]).to.equal('INSUFFICIENT_FUNDS');
    expect(await stack.balances(alice)).to.deep.equal(before);
  });

  it("answers NOT_FOUND for another user's waiting stop and for either order of their pair, by id or client order id, changing nothing", async () => {
    const stop = (await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '1', quantity: '1', stopPrice: '600', clientOrderId: 'alice-stop' }, alice.metadata)).order!;
    const pair = await stack.client.placeOcoOrder({ market: 'BTC-USD', side: SIDE_SELL, quantity: '0.1', price: '300', stopPrice: '60' }, alice.metadata);
    const before = { balances: await stack.balances(alice), orders: await stack.client.listOrders({}, alice.metadata) };
    for (const orderId of [stop.orderId, pair.order!.orderId, pair.stopOrder!.orderId]) {
      for (const call of [
        stack.client.cancelOrder({ orderId }, eve.metadata),
        stack.client.amendOrder({ orderId, price: '2' }, eve.metadata),
        stack.client.amendOrder({ orderId, quantity: '2' }, eve.metadata),
        stack.client.getOrder({ orderId }, eve.metadata),
      ]) {
        await expectStatus(call, grpc.status.NOT_FOUND, /^order_id: /);
      }
    }
    await expectStatus(stack.client.cancelOrder({ clientOrderId: 'alice-stop' }, eve.metadata), grpc.status.NOT_FOUND, /^client_order_id: /);
    await expectStatus(stack.client.amendOrder({ clientOrderId: 'alice-stop', price: '2' }, eve.metadata), grpc.status.NOT_FOUND, /^client_order_id: /);
    expect((await stack.client.cancelAllOrders({}, eve.metadata)).cancelledCount).to.equal(0);
    expect({ balances: await stack.balances(alice), orders: await stack.client.listOrders({}, alice.metadata) }).to.deep.equal(before);
    await stack.client.cancelOrder({ orderId: stop.orderId }, alice.metadata);
    await stack.client.cancelOrder({ orderId: pair.order!.orderId }, alice.metadata);
  });

  it('refuses a pair whose stop price equals its limit price, on either side, naming stop_price', async () => {
    const before = await stack.balances(alice);
    for (const side of [SIDE_BUY, SIDE_SELL]) {
      const pair = { market: 'BTC-USD', side, quantity: '0.1', price: '100', stopPrice: '100' };
      expect(await refusal(stack.client.placeOcoOrder(pair, alice.metadata), grpc.status.INVALID_ARGUMENT)).to.deep.equal(['INVALID_FIELD', 'stop_price']);
      for (const stopPrice of ['-100', '9'.repeat(10_000), '18446744073709551616']) {
        expect(await refusal(stack.client.placeOcoOrder({ ...pair, stopPrice }, alice.metadata), grpc.status.INVALID_ARGUMENT)).to.deep.equal(['INVALID_FIELD', 'stop_price']);
      }
    }
    expect(await stack.balances(alice)).to.deep.equal(before);
  });

  it('places a pair over OrderSession', async () => {
    const session = new Session(stack.client.raw, alice.metadata);
    const placed = await session.request({
      requestId: 7n,
      placeOcoOrder: { market: 'BTC-USD', side: SIDE_SELL, quantity: '0.1', price: '150', stopPrice: '70' },
    });
    expect(placed.placeOcoOrder?.stopOrder).to.include({ status: ORDER_STATUS_UNTRIGGERED, stopPrice: '70' });
    const refused = await session.request({ requestId: 8n, placeOcoOrder: { market: 'BTC-USD', side: SIDE_SELL, quantity: '0.1', price: '150', stopPrice: '170' } });
    expect(refused.error?.code).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(refused.error?.message).to.match(/^stop_price: /);
    await session.end();
  });
});

describe('stop orders: the bound on waiting stops per user and market', () => {
  let stack: TestStack;
  let carol: Trader;
  let dave: Trader;

  before(async () => {
    stack = await TestStack.start({ matchingEnv: { MATCHING_MAX_STOPS_PER_USER_MARKET: '2' } });
    carol = await stack.newTrader('carol');
    dave = await stack.newTrader('dave');
    for (const trader of [carol, dave]) await stack.fund(trader, 'USD', '10000');
  });
  after(() => stack.stop());

  it('refuses one stop more with TOO_MANY_STOP_ORDERS until one leaves; another user cannot free a place; other users and markets are apart', async () => {
    const stop = (market: string, stopPrice: string) => ({ market, side: SIDE_BUY, price: '101', quantity: '1', stopPrice });
    const first = (await stack.client.placeLimitOrder(stop('BTC-USD', '100'), carol.metadata)).order!.orderId;
    await stack.client.placeMarketOrder({ market: 'BTC-USD', side: SIDE_BUY, quantity: '1', stopPrice: '100' }, carol.metadata);
    const before = await stack.balances(carol);
    const tooMany = ['TOO_MANY_STOP_ORDERS', 'stop_price'];
    expect(await refusal(stack.client.placeLimitOrder(stop('BTC-USD', '99'), carol.metadata), grpc.status.FAILED_PRECONDITION)).to.deep.equal(tooMany);
    const pair = { market: 'BTC-USD', side: SIDE_BUY, quantity: '1', price: '50', stopPrice: '99' };
    expect(await refusal(stack.client.placeOcoOrder(pair, carol.metadata), grpc.status.FAILED_PRECONDITION)).to.deep.equal(tooMany);
    const session = new Session(stack.client.raw, carol.metadata);
    const refused = await session.request({ requestId: 1n, placeLimitOrder: stop('BTC-USD', '98') });
    expect(refused.error?.code).to.equal(grpc.status.FAILED_PRECONDITION);
    expect(refused.error?.message).to.match(/^stop_price: 2 stop orders are already waiting in BTC-USD/);
    await session.end();
    expect(await stack.balances(carol)).to.deep.equal(before);

    await expectStatus(stack.client.cancelOrder({ orderId: first }, dave.metadata), grpc.status.NOT_FOUND);
    expect((await refusal(stack.client.placeLimitOrder(stop('BTC-USD', '99'), carol.metadata), grpc.status.FAILED_PRECONDITION))[0]).to.equal('TOO_MANY_STOP_ORDERS');
    await stack.client.placeLimitOrder(stop('BTC-USD', '99'), dave.metadata);
    await stack.client.placeLimitOrder(stop('ETH-USD', '99'), carol.metadata);

    await stack.client.cancelOrder({ orderId: first }, carol.metadata);
    const again = await stack.client.placeOcoOrder(pair, carol.metadata);
    expect(again.stopOrder).to.include({ status: ORDER_STATUS_UNTRIGGERED });
  });
});
