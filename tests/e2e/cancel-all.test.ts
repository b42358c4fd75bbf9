import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { expectStatus } from '@orderbook/test-support';
import { StreamReader } from './support/stream-reader';
import { TestStack, type Trader } from './support/test-stack';

const { SIDE_BUY, SIDE_SELL } = matching.Side;
const OPEN = matching.OrderStatusFilter.ORDER_STATUS_FILTER_OPEN;

/** CancelAllOrders through real gRPC: filters, one command, released amounts, other users untouched. */
describe('CancelAllOrders', () => {
  let stack: TestStack;
  let alice: Trader;
  let bob: Trader;
  const openIds = async (trader: Trader): Promise<bigint[]> => (await stack.client.listOrders({ status: OPEN }, trader.metadata)).orders.map((o) => o.orderId);

  before(async () => {
    stack = await TestStack.start();
    alice = await stack.newTrader('alice');
    bob = await stack.newTrader('bob');
    await stack.fund(alice, 'USD', '1000');
    await stack.fund(alice, 'ETH', '10');
    await stack.fund(bob, 'USD', '1000');
  });
  after(() => stack.stop());

  it('cancels one market’s buys, then everything, in one command each; another user’s orders stay', async () => {
    const place = async (trader: Trader, market: string, side: matching.Side, price: string, quantity: string) =>
      (await stack.client.placeLimitOrder({ market, side, price, quantity }, trader.metadata)).order!.orderId;
    const btcBuy = await place(alice, 'BTC-USD', SIDE_BUY, '10', '1');
    const ethBuy = await place(alice, 'ETH-USD', SIDE_BUY, '5', '2');
    const ethSell = await place(alice, 'ETH-USD', SIDE_SELL, '50', '3');
    const bobs = await place(bob, 'ETH-USD', SIDE_BUY, '6', '1');
    const updates = new StreamReader(stack.client.raw.streamOrderUpdates({ market: '' }, alice.metadata));
    const { order: sentinel } = await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '1', quantity: '1' }, alice.metadata);
    await updates.until((m) => m.some((u) => u.order?.orderId === sentinel!.orderId));

    const some = await stack.client.cancelAllOrders({ market: 'ETH-USD', side: SIDE_BUY }, alice.metadata);
    expect(some).to.deep.equal({ cancelledCount: 1, released: [{ asset: 'USD', amount: '10' }] });
    expect(await openIds(alice)).to.deep.equal([sentinel!.orderId, ethSell, btcBuy]);
    const received = await updates.until((m) => m.some((u) => u.order?.orderId === ethBuy));
    expect(received.find((u) => u.order?.orderId === ethBuy)!.order!.status).to.equal(matching.OrderStatus.ORDER_STATUS_CANCELLED);
    updates.cancel();

    const all = await stack.client.cancelAllOrders({}, alice.metadata);
    expect(all).to.deep.equal({ cancelledCount: 3, released: [{ asset: 'ETH', amount: '3' }, { asset: 'USD', amount: '11' }] });
    expect(await openIds(alice)).to.deep.equal([]);
    expect(await stack.balances(alice)).to.deep.equal({ ETH: ['10', '0'], USD: ['1000', '0'] });
    expect(await openIds(bob)).to.deep.equal([bobs]);
    // Nothing left: not an error.
    expect(await stack.client.cancelAllOrders({}, alice.metadata)).to.deep.equal({ cancelledCount: 0, released: [] });
  });

  it('refuses an unknown market or side with INVALID_ARGUMENT naming the field', async () => {
    await expectStatus(stack.client.cancelAllOrders({ market: 'DOGE-USD' }, alice.metadata), grpc.status.INVALID_ARGUMENT, /^market: /);
    await expectStatus(stack.client.cancelAllOrders({ side: 7 as matching.Side }, alice.metadata), grpc.status.INVALID_ARGUMENT, /^side: /);
    await expectStatus(stack.client.cancelAllOrders({}), grpc.status.UNAUTHENTICATED);
    expect(await openIds(bob)).to.have.length(1);
  });
});
