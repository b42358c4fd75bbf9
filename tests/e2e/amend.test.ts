import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { refusal } from './support/refusal';
import { StreamReader } from './support/stream-reader';
import { TestStack, type Trader } from './support/test-stack';

const { SIDE_BUY, SIDE_SELL } = matching.Side;

/** AmendOrder through real gRPC: priority, locks, crossing, refusals, other users' orders. */
describe('AmendOrder', () => {
  let stack: TestStack;
  let alice: Trader;
  let bob: Trader;
  const bids = async (): Promise<[string, string, number][]> =>
    (await stack.client.getOrderBook({ market: 'BTC-USD' })).bids.map((l) => [l.price, l.quantity, l.orderCount]);

  before(async () => {
    stack = await TestStack.start();
    alice = await stack.newTrader('alice');
    bob = await stack.newTrader('bob');
    await stack.fund(alice, 'USD', '1000');
    await stack.fund(bob, 'BTC', '10');
  });
  after(() => stack.stop());

  it('a smaller quantity keeps the order’s place and releases its lock; the order-update stream sees it', async () => {
    const first = (await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '100', quantity: '2', clientOrderId: 'a1' }, alice.metadata)).order!;
    const second = (await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '100', quantity: '1' }, alice.metadata)).order!;
    const updates = new StreamReader(stack.client.raw.streamOrderUpdates({ market: '' }, alice.metadata));
    // Once the stream delivers this order, it is subscribed (the sentinel locks 1 USD).
    const { order: sentinel } = await stack.client.placeLimitOrder({ market: 'ETH-USD', side: SIDE_BUY, price: '1', quantity: '1' }, alice.metadata);
    await updates.until((m) => m.some((u) => u.order?.orderId === sentinel!.orderId));
    const { order, trades } = await stack.client.amendOrder({ orderId: first.orderId, quantity: '1.5' }, alice.metadata);
    expect(trades).to.deep.equal([]);
    expect(order).to.include({ orderId: first.orderId, quantity: '1.5', remainingQuantity: '1.5', lockedAmount: '150' });
    expect(await stack.balances(alice)).to.deep.equal({ USD: ['749', '251'] });
    expect(await bids()).to.deep.equal([['100', '2.5', 2]]);
    const received = await updates.until((m) => m.some((u) => u.order?.orderId === first.orderId));
    expect(received.find((u) => u.order?.orderId === first.orderId)!.order).to.deep.equal(order);
    updates.cancel();
    // The first order still trades first.
    const sold = await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '100', quantity: '0.5' }, bob.metadata);
    expect(sold.trades.map((t) => t.makerOrderId)).to.deep.equal([first.orderId]);
    // A larger quantity (by client_order_id) sends it behind the second order.
    await stack.client.amendOrder({ clientOrderId: 'a1', quantity: '3' }, alice.metadata);
    const next = await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '100', quantity: '0.5' }, bob.metadata);
    expect(next.trades.map((t) => t.makerOrderId)).to.deep.equal([second.orderId]);
  });

  it('a crossing price trades at once, at the makers’ prices, and rests the rest', async () => {
    await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '101', quantity: '0.5' }, bob.metadata);
    const { orders } = await stack.client.listOrders({ market: 'BTC-USD', status: matching.OrderStatusFilter.ORDER_STATUS_FILTER_OPEN }, alice.metadata);
    const target = orders.find((o) => o.clientOrderId === 'a1')!;
    const { order, trades } = await stack.client.amendOrder({ orderId: target.orderId, price: '102' }, alice.metadata);
    expect(trades.map((t) => [t.price, t.quantity, t.takerOrderId])).to.deep.equal([['101', '0.5', target.orderId]]);
    expect(order).to.include({ price: '102', filledQuantity: '1', remainingQuantity: '2', status: matching.OrderStatus.ORDER_STATUS_PARTIALLY_FILLED });
    expect(await bids()).to.deep.equal([['102', '2', 1], ['100', '0.5', 1]]);
  });

  it('refuses, changing nothing: insufficient funds, below the filled quantity, bad fields, both ids', async () => {
    const { orders } = await stack.client.listOrders({ market: 'BTC-USD', status: matching.OrderStatusFilter.ORDER_STATUS_FILTER_OPEN }, alice.metadata);
    const target = orders.find((o) => o.clientOrderId === 'a1')!;
    const before = await stack.balances(alice);
    expect(await refusal(stack.client.amendOrder({ orderId: target.orderId, quantity: '100' }, alice.metadata), grpc.status.FAILED_PRECONDITION)).to.deep.equal(['INSUFFICIENT_FUNDS', undefined]);
    expect(await refusal(stack.client.amendOrder({ orderId: target.orderId, quantity: '1' }, alice.metadata), grpc.status.FAILED_PRECONDITION)).to.deep.equal(['AMEND_BELOW_FILLED', 'quantity']);
    expect(await refusal(stack.client.amendOrder({ orderId: target.orderId }, alice.metadata), grpc.status.INVALID_ARGUMENT)).to.deep.equal(['INVALID_FIELD', 'quantity']);
    expect(await refusal(stack.client.amendOrder({ orderId: target.orderId, price: '1e3' }, alice.metadata), grpc.status.INVALID_ARGUMENT)).to.deep.equal(['INVALID_FIELD', 'price']);
    expect(await refusal(stack.client.amendOrder({ orderId: target.orderId, clientOrderId: 'a1', price: '1' }, alice.metadata), grpc.status.INVALID_ARGUMENT)).to.deep.equal(['INVALID_FIELD', 'client_order_id']);
    expect(await stack.balances(alice)).to.deep.equal(before);
    expect((await stack.client.getOrder({ orderId: target.orderId }, alice.metadata)).order).to.deep.equal(target);
  });

  it('a retry of the original placement, after an amendment, gets the amended order and places nothing', async () => {
    const request = { market: 'BTC-USD', side: SIDE_BUY, price: '2', quantity: '1', clientOrderId: 'a-retry' };
    const { order } = await stack.client.placeLimitOrder(request, alice.metadata);
    const { order: changed } = await stack.client.amendOrder({ clientOrderId: 'a-retry', price: '3' }, alice.metadata);
    const retried = await stack.client.placeLimitOrder(request, alice.metadata);
    expect(retried.order).to.deep.equal(changed);
    expect(retried.order!.orderId).to.equal(order!.orderId);
    await stack.client.cancelOrder({ clientOrderId: 'a-retry' }, alice.metadata);
  });

  it('answers NOT_FOUND for another user’s order, by id or client id, and leaves it untouched', async () => {
    const { order } = await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '150', quantity: '1', clientOrderId: 'b1' }, bob.metadata);
    expect(await refusal(stack.client.amendOrder({ orderId: order!.orderId, price: '90' }, alice.metadata), grpc.status.NOT_FOUND)).to.deep.equal(['ORDER_NOT_FOUND', 'order_id']);
    expect(await refusal(stack.client.amendOrder({ clientOrderId: 'b1', quantity: '5' }, alice.metadata), grpc.status.NOT_FOUND)).to.deep.equal(['ORDER_NOT_FOUND', 'client_order_id']);
    expect((await stack.client.getOrder({ orderId: order!.orderId }, bob.metadata)).order).to.deep.equal(order);
    await stack.client.cancelOrder({ orderId: order!.orderId }, bob.metadata);
    expect(await refusal(stack.client.amendOrder({ orderId: order!.orderId, price: '140' }, bob.metadata), grpc.status.FAILED_PRECONDITION)).to.deep.equal(['ORDER_NOT_OPEN', 'order_id']);
  });
});
