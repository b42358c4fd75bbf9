import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { expectStatus } from '@orderbook/test-support';
import { refusal } from './support/refusal';
import { TestStack, type Trader } from './support/test-stack';

const { SIDE_BUY, SIDE_SELL } = matching.Side;

/** Retries (AIP-155) through real gRPC: client_order_id on placements and cancels, request_id on AddFunds. */
describe('retries: client_order_id and request_id', () => {
  let stack: TestStack;
  let alice: Trader;
  let bob: Trader;

  before(async () => {
    // A small window, so that a forgotten id is reached within the test.
    stack = await TestStack.start({ matchingEnv: { MATCHING_CLOSED_ORDERS_RETAINED: '2' } });
    alice = await stack.newTrader('alice');
    bob = await stack.newTrader('bob');
    await stack.fund(alice, 'USD', '10000');
    await stack.fund(bob, 'BTC', '10');
  });
  after(() => stack.stop());

  it('answers a repeated placement with the original order and its trades, placing nothing more', async () => {
    await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '100', quantity: '1' }, bob.metadata);
    const request = { market: 'BTC-USD', side: SIDE_BUY, price: '100', quantity: '3', clientOrderId: 'alice-1' };
    const first = await stack.client.placeLimitOrder(request, alice.metadata);
    expect(first.trades.map((t) => t.quantity)).to.deep.equal(['1']);
    const balances = await stack.balances(alice);
    const book = await stack.client.getOrderBook({ market: 'BTC-USD' });
    const again = await stack.client.placeLimitOrder(request, alice.metadata);
    expect(again).to.deep.equal(first);
    expect(await stack.balances(alice)).to.deep.equal(balances);
    expect(await stack.client.getOrderBook({ market: 'BTC-USD' })).to.deep.equal(book);
    const market = { market: 'BTC-USD', side: SIDE_SELL, quantity: '0.5', clientOrderId: 'bob-m' };
    const sold = await stack.client.placeMarketOrder(market, bob.metadata);
    expect(await stack.client.placeMarketOrder(market, bob.metadata)).to.deep.equal(sold);
    expect((await stack.balances(bob)).BTC).to.deep.equal(['8.5', '0']);
  });

  it('refuses the id with other parameters: ALREADY_EXISTS CLIENT_ORDER_ID_IN_USE naming client_order_id', async () => {
    const other = { market: 'BTC-USD', side: SIDE_BUY, price: '99', quantity: '3', clientOrderId: 'alice-1' };
    expect(await refusal(stack.client.placeLimitOrder(other, alice.metadata), grpc.status.ALREADY_EXISTS)).to.deep.equal(['CLIENT_ORDER_ID_IN_USE', 'client_order_id']);
    const asMarket = { market: 'BTC-USD', side: SIDE_BUY, quantity: '3', clientOrderId: 'alice-1' };
    await expectStatus(stack.client.placeMarketOrder(asMarket, alice.metadata), grpc.status.ALREADY_EXISTS, /^client_order_id: /);
  });

  it('cancels by client_order_id; another user\'s id is NOT_FOUND and their order stays untouched', async () => {
    const { order } = await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '200', quantity: '1', clientOrderId: 'shared' }, bob.metadata);
    await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '1', quantity: '1', clientOrderId: 'shared' }, alice.metadata);
    const mine = await stack.client.cancelOrder({ clientOrderId: 'shared' }, alice.metadata);
    expect(mine).to.deep.include({ releasedAmount: '1', releasedAsset: 'USD' });
    expect(mine.order).to.include({ clientOrderId: 'shared', status: matching.OrderStatus.ORDER_STATUS_CANCELLED });
    expect((await stack.client.getOrder({ orderId: order!.orderId }, bob.metadata)).order).to.deep.equal(order);
    expect(await refusal(stack.client.cancelOrder({ clientOrderId: 'bob-only' }, alice.metadata), grpc.status.NOT_FOUND)).to.deep.equal(['ORDER_NOT_FOUND', 'client_order_id']);
    const foreign = await expectStatus(stack.client.cancelOrder({ clientOrderId: 'bob-m' }, alice.metadata), grpc.status.NOT_FOUND);
    expect(foreign.details).to.equal('client_order_id: order "bob-m" not found');
    expect(await refusal(stack.client.cancelOrder({ orderId: order!.orderId }, alice.metadata), grpc.status.NOT_FOUND)).to.deep.equal(['ORDER_NOT_FOUND', 'order_id']);
    expect((await stack.client.getOrder({ orderId: order!.orderId }, bob.metadata)).order).to.deep.equal(order);
    // Repeated: the cancelled order again, nothing released.
    const again = await stack.client.cancelOrder({ clientOrderId: 'shared' }, alice.metadata);
    expect(again).to.deep.equal({ ...mine, releasedAmount: '0' });
    // A filled order cannot be cancelled.
    expect(await refusal(stack.client.cancelOrder({ clientOrderId: 'bob-m' }, bob.metadata), grpc.status.FAILED_PRECONDITION)).to.deep.equal(['ORDER_NOT_OPEN', 'client_order_id']);
  });

  it('checks the fields: both ids, a malformed id', async () => {
    expect(await refusal(stack.client.cancelOrder({ orderId: 5n, clientOrderId: 'x' }, alice.metadata), grpc.status.INVALID_ARGUMENT)).to.deep.equal(['INVALID_FIELD', 'client_order_id']);
    await expectStatus(stack.client.cancelOrder({ clientOrderId: 'caf\u00e9' }, alice.metadata), grpc.status.INVALID_ARGUMENT, /^client_order_id: /);
    await expectStatus(stack.client.cancelOrder({}, alice.metadata), grpc.status.INVALID_ARGUMENT, /^order_id: required/);
    const admin = stack.admin.metadata;
    await expectStatus(stack.client.addFunds({ userId: alice.userId, asset: 'USD', amount: '1', requestId: 'x'.repeat(65) }, admin), grpc.status.INVALID_ARGUMENT, /^request_id: /);
  });

  it('credits AddFunds once per request_id; another asset, amount or reference is ALREADY_EXISTS REQUEST_ID_IN_USE', async () => {
    const admin = stack.admin.metadata;
    const deposit = { userId: alice.userId, asset: 'USD', amount: '5', requestId: 'dep-1' };
    const first = await stack.client.addFunds(deposit, admin);
    expect(await stack.client.addFunds(deposit, admin)).to.deep.equal(first);
    expect(await refusal(stack.client.addFunds({ ...deposit, amount: '6' }, admin), grpc.status.ALREADY_EXISTS)).to.deep.equal(['REQUEST_ID_IN_USE', 'request_id']);
    await expectStatus(stack.client.addFunds({ ...deposit, asset: 'BTC' }, admin), grpc.status.ALREADY_EXISTS, /^request_id: /);
    await expectStatus(stack.client.addFunds({ ...deposit, reference: 'wire 5' }, admin), grpc.status.ALREADY_EXISTS, /^request_id: .* another asset, amount or reference/);
    // The same id for another user is another deposit (bob had 150 USD from his sales).
    expect((await stack.client.addFunds({ ...deposit, userId: bob.userId }, admin)).balance).to.deep.include({ asset: 'USD', available: '155' });
    expect((await stack.balances(alice)).USD![0]).to.equal(first.balance!.available);
  });

  it('retries a pair (PlaceOcoOrder): the same pair again; its id for another pair or a limit order, or the reverse, is ALREADY_EXISTS', async () => {
    const pair = { market: 'BTC-USD', side: SIDE_BUY, quantity: '1', price: '50', stopPrice: '150', clientOrderId: 'alice-oco' };
    const first = await stack.client.placeOcoOrder(pair, alice.metadata);
    expect(first.order).to.include({ clientOrderId: 'alice-oco', ocoOrderId: first.stopOrder!.orderId });
    expect(first.stopOrder).to.include({ clientOrderId: '' });
    const balances = await stack.balances(alice);
    expect(await stack.client.placeOcoOrder(pair, alice.metadata)).to.deep.equal(first);
    expect(await stack.balances(alice)).to.deep.equal(balances);
    const inUse = ['CLIENT_ORDER_ID_IN_USE', 'client_order_id'];
    expect(await refusal(stack.client.placeOcoOrder({ ...pair, stopPrice: '160' }, alice.metadata), grpc.status.ALREADY_EXISTS)).to.deep.equal(inUse);
    const limit = { market: 'BTC-USD', side: SIDE_BUY, price: '50', quantity: '1', clientOrderId: 'alice-oco' };
    expect(await refusal(stack.client.placeLimitOrder(limit, alice.metadata), grpc.status.ALREADY_EXISTS)).to.deep.equal(inUse);
    await stack.client.placeLimitOrder({ ...limit, price: '1', clientOrderId: 'alice-single' }, alice.metadata);
    expect(await refusal(stack.client.placeOcoOrder({ ...pair, clientOrderId: 'alice-single' }, alice.metadata), grpc.status.ALREADY_EXISTS)).to.deep.equal(inUse);
    expect(await stack.balances(alice)).to.deep.equal({ ...balances, USD: [String(Number(balances.USD![0]) - 1), String(Number(balances.USD![1]) + 1)] });
    // Another user's same id is theirs.
    const bobs = await stack.client.placeOcoOrder({ ...pair, side: SIDE_SELL, quantity: '0.1', price: '500', stopPrice: '60' }, bob.metadata);
    expect(bobs.order).to.include({ clientOrderId: 'alice-oco' });
    // Cancelling by client_order_id reaches the limit order, so the pair; a retry then shows both cancelled.
    expect((await stack.client.cancelOrder({ clientOrderId: 'alice-oco' }, alice.metadata)).order!.orderId).to.equal(first.order!.orderId);
    const after = await stack.client.placeOcoOrder(pair, alice.metadata);
    expect([after.order!.orderId, after.order!.status]).to.deep.equal([first.order!.orderId, matching.OrderStatus.ORDER_STATUS_CANCELLED]);
    expect([after.stopOrder!.orderId, after.stopOrder!.status]).to.deep.equal([first.stopOrder!.orderId, matching.OrderStatus.ORDER_STATUS_CANCELLED]);
    // The pair is kept across a restart (snapshot or journal replay).
    await stack.restartMatching();
    expect(await stack.client.placeOcoOrder(pair, alice.metadata)).to.deep.equal(after);
  });

  it('refuses a hostile client_order_id on a pair, as on a limit order: too long, 10,000 characters, not printable ASCII', async () => {
    const pair = { market: 'BTC-USD', side: SIDE_BUY, quantity: '1', price: '50', stopPrice: '150' };
    const printable = 'client_order_id: only printable ASCII characters (space to ~)';
    for (const [clientOrderId, message] of [
      ['x'.repeat(65), 'client_order_id: at most 64 characters, got 65'],
      ['x'.repeat(10_000), 'client_order_id: at most 64 characters, got 10000'],
      ['tab\there', printable],
      ['\u0000', printable],
      ['caf\u00e9', printable],
    ] as const) {
      const refused = await expectStatus(stack.client.placeOcoOrder({ ...pair, clientOrderId }, alice.metadata), grpc.status.INVALID_ARGUMENT);
      expect(refused.details).to.equal(message);
    }
  });

  it('forgets an id past the window (MATCHING_CLOSED_ORDERS_RETAINED closed orders), and keeps it across a restart', async () => {
    const admin = stack.admin.metadata;
    const deposit = { userId: bob.userId, asset: 'USD', amount: '1', requestId: 'window' };
    await stack.client.addFunds(deposit, admin);
    await stack.restartMatching();
    const before = (await stack.balances(bob)).USD![0];
    await stack.client.addFunds(deposit, admin);
    expect((await stack.balances(bob)).USD![0], 'retained across the restart').to.equal(before);
    for (const requestId of ['w2', 'w3']) await stack.client.addFunds({ ...deposit, requestId }, admin);
    await stack.client.addFunds(deposit, admin);
    expect(Number((await stack.balances(bob)).USD![0]) - Number(before), 'w2, w3, then window again').to.equal(3);
  });
});
