import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { refusal } from './support/refusal';
import { TestStack, type Trader } from './support/test-stack';

const { SIDE_BUY } = matching.Side;
const { TIME_IN_FORCE_IOC } = matching.TimeInForce;
const { ORDER_STATUS_FILTER_OPEN } = matching.OrderStatusFilter;

/**
 * MATCHING_MAX_OPEN_ORDERS_PER_USER_MARKET and MATCHING_CLOSED_ORDERS_RETAINED changed between
 * restarts of the real service, with the journal replayed each time (the snapshot its stop wrote is
 * deleted, as if it had crashed): every acknowledged order stays, and the new values judge what follows.
 */
describe('engine limits changed across restarts of the matching service', () => {
  let stack: TestStack;
  let carol: Trader;

  before(async () => {
    stack = await TestStack.start({ matchingEnv: { MATCHING_MAX_OPEN_ORDERS_PER_USER_MARKET: '3', MATCHING_CLOSED_ORDERS_RETAINED: '1' } });
    carol = await stack.newTrader('carol');
    await stack.fund(carol, 'USD', '10000');
  });
  after(() => stack.stop());

  /** Stops matching, deletes the snapshot its stop wrote, and starts it with `env`: it replays its journal. */
  async function restartReplaying(env: Record<string, string>): Promise<void> {
    stack.client.close();
    await stack.matching.stop();
    const dir = join(stack.dir, 'matching');
    const snapshots = (await readdir(dir)).filter((name) => /^snapshot-\d+\.snap$/.test(name)).sort();
    await rm(join(dir, snapshots.at(-1)!));
    await stack.startMatching(env);
  }

  const bid = (price: string, clientOrderId?: string) => ({ market: 'BTC-USD', side: SIDE_BUY, price, quantity: '1', ...(clientOrderId === undefined ? {} : { clientOrderId }) });
  const openIds = async () => (await stack.client.listOrders({ status: ORDER_STATUS_FILTER_OPEN }, carol.metadata)).orders.map((o) => o.orderId).sort();

  it('keeps every acknowledged order and client order id through a lowered and a raised bound and retry window', async () => {
    // A window of one closed order: "first" is forgotten once "second" closes, and names a new order.
    await stack.client.placeLimitOrder({ ...bid('1', 'first'), timeInForce: TIME_IN_FORCE_IOC }, carol.metadata);
    await stack.client.placeLimitOrder({ ...bid('1', 'second'), timeInForce: TIME_IN_FORCE_IOC }, carol.metadata);
    const acknowledged = [];
    for (const [price, id] of [['10', 'first'], ['11', undefined], ['12', undefined]] as const) {
      acknowledged.push((await stack.client.placeLimitOrder(bid(price, id), carol.metadata)).order!.orderId);
    }
    const balances = await stack.balances(carol);

    await restartReplaying({ MATCHING_MAX_OPEN_ORDERS_PER_USER_MARKET: '2', MATCHING_CLOSED_ORDERS_RETAINED: '1000' });
    expect(await openIds()).to.deep.equal([...acknowledged].sort());
    expect(await stack.balances(carol)).to.deep.equal(balances);
    expect(await refusal(stack.client.placeLimitOrder(bid('13'), carol.metadata), grpc.status.FAILED_PRECONDITION)).to.deep.equal(['TOO_MANY_OPEN_ORDERS', 'market']);

    await restartReplaying({ MATCHING_MAX_OPEN_ORDERS_PER_USER_MARKET: '4', MATCHING_CLOSED_ORDERS_RETAINED: '1000' });
    const fourth = (await stack.client.placeLimitOrder(bid('13'), carol.metadata)).order!.orderId;
    expect(await refusal(stack.client.placeLimitOrder(bid('14'), carol.metadata), grpc.status.FAILED_PRECONDITION)).to.deep.equal(['TOO_MANY_OPEN_ORDERS', 'market']);

    // Replayed once more under the first values: each change applies at its seq, so nothing moves.
    await restartReplaying({ MATCHING_MAX_OPEN_ORDERS_PER_USER_MARKET: '3', MATCHING_CLOSED_ORDERS_RETAINED: '1' });
    expect(await openIds()).to.deep.equal([...acknowledged, fourth].sort());
  });
});
