import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { refusal } from './support/refusal';
import { Session } from './support/session';
import { TestStack, type Trader } from './support/test-stack';

const { SIDE_BUY, SIDE_SELL } = matching.Side;
const { TIME_IN_FORCE_IOC } = matching.TimeInForce;

/** The bound on one user's resting orders in a market (MATCHING_MAX_OPEN_ORDERS_PER_USER_MARKET), through real gRPC. */
describe('the bound on a user\'s resting orders in a market', () => {
  let stack: TestStack;
  let carol: Trader;
  let dave: Trader;

  before(async () => {
    stack = await TestStack.start({ matchingEnv: { MATCHING_MAX_OPEN_ORDERS_PER_USER_MARKET: '2' } });
    carol = await stack.newTrader('carol');
    dave = await stack.newTrader('dave');
    for (const trader of [carol, dave]) {
      await stack.fund(trader, 'USD', '10000');
      await stack.fund(trader, 'BTC', '10');
    }
  });
  after(() => stack.stop());

  it('refuses one resting order more with TOO_MANY_OPEN_ORDERS naming market, changing nothing, until one leaves; IOC, other users and markets are apart', async () => {
    const bid = (market: string, price: string) => ({ market, side: SIDE_BUY, price, quantity: '1' });
    const first = (await stack.client.placeLimitOrder(bid('BTC-USD', '10'), carol.metadata)).order!.orderId;
    await stack.client.placeLimitOrder(bid('BTC-USD', '11'), carol.metadata);
    const before = await stack.balances(carol);
    const tooMany = ['TOO_MANY_OPEN_ORDERS', 'market'];
    expect(await refusal(stack.client.placeLimitOrder(bid('BTC-USD', '12'), carol.metadata), grpc.status.FAILED_PRECONDITION)).to.deep.equal(tooMany);
    const pair = { market: 'BTC-USD', side: SIDE_BUY, quantity: '1', price: '9', stopPrice: '99' };
    expect(await refusal(stack.client.placeOcoOrder(pair, carol.metadata), grpc.status.FAILED_PRECONDITION)).to.deep.equal(tooMany);
    const session = new Session(stack.client.raw, carol.metadata);
    const refused = await session.request({ requestId: 1n, placeLimitOrder: bid('BTC-USD', '12') });
    expect(refused.error?.code).to.equal(grpc.status.FAILED_PRECONDITION);
    expect(refused.error?.message).to.match(/^market: 2 orders are already resting in BTC-USD, the most one user may have: cancel one first$/);
    await session.end();
    expect(await stack.balances(carol)).to.deep.equal(before);

    // An order that never rests, another user, another market: not bounded by carol's resting orders here.
    await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '20', quantity: '1' }, dave.metadata);
    const ioc = await stack.client.placeLimitOrder({ ...bid('BTC-USD', '20'), timeInForce: TIME_IN_FORCE_IOC }, carol.metadata);
    expect(ioc.trades).to.have.length(1);
    await stack.client.placeLimitOrder(bid('BTC-USD', '12'), dave.metadata);
    await stack.client.placeLimitOrder(bid('ETH-USD', '12'), carol.metadata);

    await stack.client.cancelOrder({ orderId: first }, carol.metadata);
    await stack.client.placeLimitOrder(bid('BTC-USD', '12'), carol.metadata);
  });
});
