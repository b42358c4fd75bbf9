import { credentials, status, type sendUnaryData } from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { OrderbookError } from '../src/errors';
import { MatchingChannels } from '../src/leader';
import { OrderEntry } from '../src/order-entry';
import type { RetryClock } from '../src/retry';
import { fakeOrder, startFakeMatching, type FakeServer } from './support/fake-matching';
import { richServiceError } from './support/status-encoding';

const noWait: RetryClock = { random: () => 0, sleep: async () => undefined };
const limitOrder = { market: 'BTC-USD', side: matching.Side.SIDE_BUY, price: '100', quantity: '1' };

/**
 * A leader that keeps placed orders by client_order_id, as the contract says: a repeat answers
 * with the placed order, a reuse with other parameters is ALREADY_EXISTS.
 */
class FakeLeader {
  readonly placed = new Map<string, matching.Order>();
  readonly requests: matching.PlaceLimitOrderRequest[] = [];
  /** Answers of the next placements that are lost on the way back (the order is placed all the same). */
  loseAnswers = 0;

  placeLimitOrder(request: matching.PlaceLimitOrderRequest, callback: sendUnaryData<matching.PlaceLimitOrderResponse>): void {
    this.requests.push(request);
    const earlier = this.placed.get(request.clientOrderId);
    if (earlier !== undefined) {
      if (earlier.price === request.price && earlier.quantity === request.quantity) callback(null, { order: earlier, trades: [] });
      else callback({ code: status.ALREADY_EXISTS, details: 'client_order_id: already used with other parameters' });
      return;
    }
    const order = fakeOrder({ orderId: BigInt(this.placed.size + 1), clientOrderId: request.clientOrderId, market: request.market, price: request.price, quantity: request.quantity });
    this.placed.set(request.clientOrderId, order);
    if (this.loseAnswers > 0) {
      this.loseAnswers -= 1;
      callback({ code: status.UNAVAILABLE, details: 'connection reset' });
      return;
    }
    callback(null, { order, trades: [] });
  }
}

describe('order entry', () => {
  const servers: FakeServer[] = [];
  const channels: MatchingChannels[] = [];
  afterEach(async () => {
    for (const channel of channels.splice(0)) channel.close();
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  async function entryTo(leader: FakeLeader): Promise<{ entry: OrderEntry; channel: MatchingChannels; address: string }> {
    const server = await startFakeMatching({
      placeLimitOrder: (call, callback) => leader.placeLimitOrder(call.request, callback),
    });
    servers.push(server);
    return { ...entryVia(server.address), address: server.address };
  }

  function entryVia(address: string): { entry: OrderEntry; channel: MatchingChannels } {
    const channel = new MatchingChannels(address, credentials.createInsecure());
    channels.push(channel);
    const entry = new OrderEntry({ channels: channel, accessToken: async () => 'token', policy: { maxAttempts: 4, initialDelayMs: 1, maxDelayMs: 1 }, clock: noWait, deadlineMs: 5_000 });
    return { entry, channel };
  }

  it('gives every placement its own client_order_id, and keeps one the caller chose', async () => {
    const leader = new FakeLeader();
    const { entry } = await entryTo(leader);
    await entry.placeLimitOrder(limitOrder);
    await entry.placeLimitOrder(limitOrder);
    await entry.placeLimitOrder({ ...limitOrder, clientOrderId: 'mine-1' });
    const ids = leader.requests.map((r) => r.clientOrderId);
    expect(new Set(ids).size).to.equal(3);
    expect(ids[2]).to.equal('mine-1');
    expect(ids.every((id) => id.length > 0 && id.length <= 64)).to.equal(true);
  });

  it('places once when the answer is lost: the retry, with the same client_order_id, gets the placed order', async () => {
    const leader = new FakeLeader();
    leader.loseAnswers = 1;
    const { entry } = await entryTo(leader);
    const placed = await entry.placeLimitOrder(limitOrder);
    expect(leader.requests).to.have.length(2);
    expect(leader.requests[0]!.clientOrderId).to.equal(leader.requests[1]!.clientOrderId);
    expect(leader.placed.size).to.equal(1);
    expect(placed.order).to.deep.equal(leader.placed.get(leader.requests[0]!.clientOrderId));
  });

  it('answers ALREADY_EXISTS to the caller, not repeated: reusing an id for another order is the caller\'s mistake', async () => {
    const leader = new FakeLeader();
    const { entry } = await entryTo(leader);
    await entry.placeLimitOrder({ ...limitOrder, clientOrderId: 'dup' });
    const err = await entry.placeLimitOrder({ ...limitOrder, price: '101', clientOrderId: 'dup' }).catch((e: unknown) => e);
    expect(leader.requests).to.have.length(2);
    expect((err as OrderbookError).code).to.equal(status.ALREADY_EXISTS);
  });

  it('follows a follower\'s NOT_LEADER answer to the leader_address it names, and keeps writing there', async () => {
    const leader = new FakeLeader();
    const { address: leaderAddress } = await entryTo(leader);
    let refused = 0;
    const follower = await startFakeMatching({
      placeLimitOrder: (_call, callback) => {
        refused += 1;
        callback(richServiceError({ code: status.UNAVAILABLE, message: 'not the leader', reason: 'NOT_LEADER', metadata: { leader_address: leaderAddress } }));
      },
    });
    servers.push(follower);
    const { entry, channel } = entryVia(follower.address);
    await entry.placeLimitOrder(limitOrder);
    expect(channel.leaderAddress).to.equal(leaderAddress);
    await entry.placeLimitOrder(limitOrder);
    expect([refused, leader.placed.size]).to.deep.equal([1, 2]);
  });

  it('repeats a pair after a lost answer with the same client_order_id, made up when not given', async () => {
    const clientOrderIds: string[] = [];
    const server = await startFakeMatching({
      placeOcoOrder: (call, callback) => {
        clientOrderIds.push(call.request.clientOrderId);
        if (clientOrderIds.length === 1) callback({ code: status.UNAVAILABLE, details: 'connection reset' });
        else callback(null, { order: fakeOrder({ orderId: 1n }), stopOrder: fakeOrder({ orderId: 2n }), trades: [] });
      },
    });
    servers.push(server);
    const { entry } = entryVia(server.address);
    const pair = { market: 'BTC-USD', side: matching.Side.SIDE_SELL, quantity: '1', price: '110', stopPrice: '90' };
    const placed = await entry.placeOcoOrder(pair);
    expect([placed.order.orderId, placed.stopOrder.orderId]).to.deep.equal([1n, 2n]);
    expect(clientOrderIds).to.have.length(2);
    expect(clientOrderIds[0]).to.have.length.within(1, 64);
    expect(clientOrderIds[1]).to.equal(clientOrderIds[0]);
    await entry.placeOcoOrder({ ...pair, clientOrderId: 'mine' });
    expect(clientOrderIds[2]).to.equal('mine');
  });

  it('sends a pair a follower refused (NOT_LEADER: nothing placed) to the leader it names, and answers with both orders', async () => {
    let refused = 0;
    const leader = await startFakeMatching({
      placeOcoOrder: (call, callback) =>
        callback(null, {
          order: fakeOrder({ orderId: 1n, price: call.request.price }),
          stopOrder: fakeOrder({ orderId: 2n, stopPrice: call.request.stopPrice, status: matching.OrderStatus.ORDER_STATUS_UNTRIGGERED }),
          trades: [],
        }),
    });
    servers.push(leader);
    const follower = await startFakeMatching({
      placeOcoOrder: (_call, callback) => {
        refused += 1;
        callback(richServiceError({ code: status.UNAVAILABLE, message: 'not the leader', reason: 'NOT_LEADER', metadata: { leader_address: leader.address } }));
      },
    });
    servers.push(follower);
    const { entry, channel } = entryVia(follower.address);
    const pair = { market: 'BTC-USD', side: matching.Side.SIDE_SELL, quantity: '1', price: '110', stopPrice: '90' };
    const placed = await entry.placeOcoOrder(pair);
    expect(channel.leaderAddress).to.equal(leader.address);
    expect([placed.order.price, placed.stopOrder.stopPrice, placed.stopOrder.status]).to.deep.equal(['110', '90', matching.OrderStatus.ORDER_STATUS_UNTRIGGERED]);
    expect(refused).to.equal(1);
  });

  it('repeats a deposit after a lost answer with the same request_id, made up when not given', async () => {
    const requestIds: string[] = [];
    const server = await startFakeMatching({
      addFunds: (call, callback) => {
        requestIds.push(call.request.requestId);
        if (requestIds.length === 1) callback({ code: status.UNAVAILABLE, details: 'connection reset' });
        else callback(null, { userId: call.request.userId, balance: { asset: 'USD', available: '1', locked: '0' } });
      },
    });
    servers.push(server);
    const { entry } = entryVia(server.address);
    expect((await entry.addFunds({ userId: 'u', asset: 'USD', amount: '1' })).balance?.available).to.equal('1');
    expect(requestIds).to.have.length(2);
    expect(requestIds[0]).to.have.length.within(1, 64);
    expect(requestIds[1]).to.equal(requestIds[0]);
    await entry.addFunds({ userId: 'u', asset: 'USD', amount: '1', requestId: 'mine' });
    expect(requestIds[2]).to.equal('mine');
  });

  it('repeats a withdrawal after a lost answer with the same request_id, made up when not given', async () => {
    const requestIds: string[] = [];
    const server = await startFakeMatching({
      withdrawFunds: (call, callback) => {
        requestIds.push(call.request.requestId);
        if (requestIds.length === 1) callback({ code: status.UNAVAILABLE, details: 'connection reset' });
        else callback(null, matching.WithdrawFundsResponse.fromPartial({ userId: call.request.userId, balance: { asset: 'USD', available: '0', locked: '0' } }));
      },
    });
    servers.push(server);
    const { entry } = entryVia(server.address);
    expect((await entry.withdrawFunds({ userId: 'u', asset: 'USD', amount: '1', reference: 'r' })).balance?.available).to.equal('0');
    expect(requestIds).to.have.length(2);
    expect(requestIds[0]).to.have.length.within(1, 64);
    expect(requestIds[1]).to.equal(requestIds[0]);
  });
});
