import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { collectStream, expectStatus } from '@orderbook/test-support';
import { TestStack, type Trader } from './support/test-stack';

const { SIDE_BUY, SIDE_SELL } = matching.Side;

/** Decimal texts that are not a positive amount within range, for any price, quantity or amount field. */
const HOSTILE_DECIMALS: ReadonlyArray<[string, string]> = [
  ['empty', ''],
  ['zero', '0'],
  ['zero with decimals', '0.000'],
  ['negative', '-1'],
  ['plus sign', '+1'],
  ['exponent', '1e3'],
  ['upper-case exponent', '1E3'],
  ['hex', '0x10'],
  ['leading space', ' 1'],
  ['trailing dot', '1.'],
  ['leading dot', '.5'],
  ['two dots', '1.2.3'],
  ['comma', '1,5'],
  ['NaN', 'NaN'],
  ['Infinity', 'Infinity'],
  ['non-ASCII digits', '١٢'],
  ['10,000 digits', '9'.repeat(10_000)],
  ['10,000 zero decimals', `1.${'0'.repeat(10_000)}`],
  ['past 2^64-1 units', '18446744073709551616'],
];

describe('request validation: INVALID_ARGUMENT naming the field, nothing changed', () => {
  let stack: TestStack;
  let trader: Trader;

  before(async () => {
    stack = await TestStack.start();
    trader = await stack.newTrader();
    await stack.fund(trader, 'USD', '100000');
    await stack.fund(trader, 'BTC', '10');
  });
  after(() => stack.stop());

  const limit = (overrides: Partial<matching.PlaceLimitOrderRequest>): Promise<unknown> =>
    stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '100', quantity: '1', ...overrides }, trader.metadata);
  const market = (overrides: Partial<matching.PlaceMarketOrderRequest>): Promise<unknown> =>
    stack.client.placeMarketOrder({ market: 'BTC-USD', side: SIDE_SELL, quantity: '1', ...overrides }, trader.metadata);
  const invalid = (call: Promise<unknown>, field: string): Promise<grpc.ServiceError> =>
    expectStatus(call, grpc.status.INVALID_ARGUMENT, new RegExp(`^${field}: `));

  it('accepts the valid request these cases start from, at the precision limits (control)', async () => {
    for (const [price, quantity] of [['0.000001', '1'], ['100', '0.00000001']]) {
      const { order } = (await limit({ price, quantity })) as matching.PlaceLimitOrderResponse;
      expect([order?.price, order?.quantity]).to.deep.equal([price, quantity]);
      await stack.client.cancelOrder({ orderId: order!.orderId }, trader.metadata);
    }
  });

  for (const [what, text] of HOSTILE_DECIMALS) {
    it(`price ${what}`, () => invalid(limit({ price: text }), 'price'));
    it(`quantity ${what}`, async () => {
      await invalid(limit({ quantity: text }), 'quantity');
      await invalid(market({ quantity: text }), 'quantity');
    });
    it(`amount ${what}`, () => invalid(stack.client.addFunds({ userId: trader.userId, asset: 'USD', amount: text }, stack.admin.metadata), 'amount'));
  }

  it('too many decimals: 7 for a price, 9 for a quantity or amount', async () => {
    await invalid(limit({ price: '1.0000001' }), 'price');
    await invalid(limit({ quantity: '1.000000001' }), 'quantity');
    await invalid(stack.client.addFunds({ userId: trader.userId, asset: 'USD', amount: '1.000000001' }, stack.admin.metadata), 'amount');
  });

  it('just past the 64-bit range: a price of 18446744073709.551616, a quantity of 184467440737.09551616', async () => {
    await invalid(limit({ price: '18446744073709.551616' }), 'price');
    await invalid(limit({ quantity: '184467440737.09551616' }), 'quantity');
  });

  it('market: missing, unknown, wrong case, hostile length', async () => {
    for (const symbol of ['', 'DOGE-USD', 'btc-usd', 'BTC-USDX', 'X'.repeat(10_000)]) {
      const error = await invalid(limit({ market: symbol }), 'market');
      expect(error.details.length, 'the message does not echo 10,000 characters').to.be.below(300);
      await invalid(market({ market: symbol }), 'market');
    }
  });

  it('side: unspecified or out of range', async () => {
    for (const side of [matching.Side.SIDE_UNSPECIFIED, 3, 99, -1]) {
      await invalid(limit({ side }), 'side');
      await invalid(market({ side }), 'side');
    }
  });

  it('time_in_force and self_trade_prevention out of range', async () => {
    await invalid(limit({ timeInForce: 5 as matching.TimeInForce }), 'time_in_force');
    await invalid(limit({ timeInForce: -3 as matching.TimeInForce }), 'time_in_force');
    await invalid(limit({ selfTradePrevention: 4 as matching.SelfTradePrevention }), 'self_trade_prevention');
    await invalid(market({ selfTradePrevention: 77 as matching.SelfTradePrevention }), 'self_trade_prevention');
  });

  it('client_order_id: longer than 64, not printable ASCII', async () => {
    await invalid(limit({ clientOrderId: 'x'.repeat(65) }), 'client_order_id');
    await invalid(limit({ clientOrderId: 'café' }), 'client_order_id');
    await invalid(limit({ clientOrderId: 'line\nbreak' }), 'client_order_id');
    await invalid(market({ clientOrderId: '\u0000' }), 'client_order_id');
  });

  it('order_id: missing (0)', async () => {
    await invalid(stack.client.cancelOrder({ orderId: 0n }, trader.metadata), 'order_id');
    await invalid(stack.client.getOrder({ orderId: 0n }, trader.metadata), 'order_id');
  });

  it('ListOrders: page_size, page_token, status, market', async () => {
    await invalid(stack.client.listOrders({ pageSize: 1001 }, trader.metadata), 'page_size');
    for (const token of ['abc', '-1', '0', '1.5', '9'.repeat(40), ' 1']) await invalid(stack.client.listOrders({ pageToken: token }, trader.metadata), 'page_token');
    await invalid(stack.client.listOrders({ status: 3 as matching.OrderStatusFilter }, trader.metadata), 'status');
    await invalid(stack.client.listOrders({ market: 'NOPE' }, trader.metadata), 'market');
  });

  it('GetOrderBook: depth past 1000, market missing or unknown', async () => {
    await invalid(stack.client.getOrderBook({ market: 'BTC-USD', depth: 1001 }), 'depth');
    await invalid(stack.client.getOrderBook({ market: '' }), 'market');
    await invalid(stack.client.getOrderBook({ market: 'BTC-EUR' }), 'market');
  });

  it('AddFunds: user_id not a UUID, asset unknown or missing', async () => {
    const add = (request: Partial<matching.AddFundsRequest>): Promise<unknown> =>
      stack.client.addFunds({ userId: trader.userId, asset: 'USD', amount: '1', ...request }, stack.admin.metadata);
    for (const userId of ['', 'admin', '12345', `${trader.userId}x`, "' OR 1=1 --"]) await invalid(add({ userId }), 'user_id');
    for (const asset of ['', 'DOGE', 'usd']) await invalid(add({ asset }), 'asset');
  });

  it('streams validate their request before streaming anything', async () => {
    const cases: Array<[string, grpc.ClientReadableStream<unknown>, string]> = [
      ['StreamOrderBook market', stack.client.raw.streamOrderBook({ market: 'NOPE', depth: 0 }), 'market'],
      ['StreamOrderBook depth', stack.client.raw.streamOrderBook({ market: 'BTC-USD', depth: 5000 }), 'depth'],
      ['StreamTrades market', stack.client.raw.streamTrades({ market: '' }), 'market'],
      ['StreamOrderUpdates market', stack.client.raw.streamOrderUpdates({ market: 'NOPE' }, trader.metadata), 'market'],
    ];
    for (const [name, stream, field] of cases) {
      const { messages, status } = await collectStream(stream);
      expect(grpc.status[status.code], name).to.equal('INVALID_ARGUMENT');
      expect(status.details, name).to.match(new RegExp(`^${field}: `));
      expect(messages, name).to.have.length(0);
    }
  });

  it('none of the rejected requests changed a balance or the book', async () => {
    expect(await stack.balances(trader)).to.deep.equal({ BTC: ['10', '0'], USD: ['100000', '0'] });
    const book = await stack.client.getOrderBook({ market: 'BTC-USD' });
    expect(book.bids).to.deep.equal([]);
    expect(book.asks).to.deep.equal([]);
  });
});
