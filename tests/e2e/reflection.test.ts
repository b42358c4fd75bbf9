import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { GrpcReflection } from 'grpc-js-reflection-client';
import { TestStack, type Trader } from './support/test-stack';

/**
 * Server reflection, used the way grpcurl uses it (grpcurl itself cannot be installed here):
 * list the services, describe a message, and call methods with JSON built from the downloaded
 * descriptors alone, no generated code.
 */

type JsonCallback = (err: grpc.ServiceError | null, response: Record<string, unknown>) => void;
type DynamicClient = grpc.Client & Record<string, (request: object, metadata: grpc.Metadata, callback: JsonCallback) => void>;

function callJson(client: DynamicClient, method: string, request: object, metadata = new grpc.Metadata()): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => client[method](request, metadata, (err, response) => (err ? reject(err) : resolve(response))));
}

describe('server reflection (grpcurl-style: list, describe, JSON calls)', () => {
  let stack: TestStack;
  let reflection: GrpcReflection;
  let trader: Trader;

  before(async () => {
    stack = await TestStack.start();
    trader = await stack.newTrader();
    await stack.fund(trader, 'USD', '500');
    reflection = new GrpcReflection(stack.matching.address, grpc.credentials.createInsecure());
  });
  after(() => stack.stop());

  it('lists the services without a token', async () => {
    const services = await reflection.listServices();
    expect(services).to.include.members(['orderbook.matching.v1.MatchingService', 'grpc.health.v1.Health']);
  });

  it('lists every MatchingService method', async () => {
    const methods = await reflection.listMethods('orderbook.matching.v1.MatchingService');
    expect(methods.map((m) => m.name).sort()).to.deep.equal(
      [
        'AddFunds',
        'AmendOrder',
        'CancelAllOrders',
        'CancelAllOrdersAfter',
        'CancelOrder',
        'GetBalances',
        'GetFeeBalances',
        'GetOrder',
        'GetOrderBook',
        'GetRecentTrades',
        'GetTicker',
        'ListCandles',
        'ListLedgerEntries',
        'ListMarkets',
        'ListOrders',
        'ListTrades',
        'OrderSession',
        'PlaceLimitOrder',
        'PlaceMarketOrder',
        'PlaceOcoOrder',
        'StreamOrderBook',
        'StreamOrderUpdates',
        'StreamTrades',
        'WithdrawFunds',
      ].sort(),
    );
  });

  it('describes a request message', async () => {
    const descriptor = await reflection.getDescriptorBySymbol('orderbook.matching.v1.PlaceLimitOrderRequest');
    const type = descriptor.getProtobufJsRoot().lookupType('orderbook.matching.v1.PlaceLimitOrderRequest');
    expect(Object.keys(type.fields)).to.deep.equal(['market', 'side', 'price', 'quantity', 'time_in_force', 'post_only', 'self_trade_prevention', 'client_order_id', 'stop_price', 'expire_at_unix_ms']);
  });

  it('calls public and authenticated methods with JSON, enums by name and uint64 as strings', async () => {
    const descriptor = await reflection.getDescriptorBySymbol('orderbook.matching.v1.MatchingService');
    const services = descriptor.getPackageObject({ keepCase: true, longs: String, enums: String, defaults: true });
    const Constructor = (services['orderbook'] as grpc.GrpcObject)['matching'] as grpc.GrpcObject;
    const MatchingService = (Constructor['v1'] as grpc.GrpcObject)['MatchingService'] as grpc.ServiceClientConstructor;
    const client = new MatchingService(stack.matching.address, grpc.credentials.createInsecure()) as unknown as DynamicClient;
    try {
      const markets = await callJson(client, 'ListMarkets', {});
      expect((markets['markets'] as Array<{ symbol: string }>).map((m) => m.symbol)).to.deep.equal(['BTC-USD', 'ETH-USD', 'SOL-USD']);

      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Bearer ${trader.token}`);
      const placed = await callJson(client, 'PlaceLimitOrder', { market: 'BTC-USD', side: 'SIDE_BUY', price: '12.5', quantity: '2' }, metadata);
      const order = placed['order'] as Record<string, unknown>;
      expect(order).to.include({ market: 'BTC-USD', side: 'SIDE_BUY', status: 'ORDER_STATUS_OPEN', price: '12.5', locked_amount: '25' });
      expect(order['order_id']).to.match(/^[1-9][0-9]*$/);

      const book = await callJson(client, 'GetOrderBook', { market: 'BTC-USD' });
      expect(book['bids']).to.deep.equal([{ price: '12.5', quantity: '2', order_count: 1 }]);

      await new Promise<void>((resolve, reject) =>
        client['GetBalances']({}, new grpc.Metadata(), (err) => {
          if (err?.code === grpc.status.UNAUTHENTICATED) resolve();
          else reject(new Error(`expected UNAUTHENTICATED, got ${err ? grpc.status[err.code] : 'OK'}`));
        }),
      );
    } finally {
      client.close();
    }
  });
});
