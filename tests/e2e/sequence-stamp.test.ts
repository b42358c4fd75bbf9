import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { TestStack, type Trader } from './support/test-stack';

/** The x-orderbook-sequence header of a unary call's answer, and of a refusal ('' when absent). */
function headerOf(start: (onMetadata: (md: grpc.Metadata) => void, done: () => void) => void): Promise<string> {
  return new Promise((resolve) => {
    let seq = '';
    start(
      (md) => (seq = String(md.get('x-orderbook-sequence')[0] ?? '')),
      () => resolve(seq),
    );
  });
}

describe('the x-orderbook-sequence response header', () => {
  let stack: TestStack;
  let trader: Trader;
  before(async () => {
    stack = await TestStack.start();
    trader = await stack.newTrader();
    await stack.fund(trader, 'USD', '1000');
  });
  after(() => stack.stop());

  it("names the engine seq an answer reflects: a placement's own seq, a read's current one, a stream's when its answers start", async () => {
    const request = matching.PlaceLimitOrderRequest.fromPartial({ market: 'BTC-USD', side: matching.Side.SIDE_BUY, price: '1', quantity: '1' });
    let orderId = 0n;
    const placed = await headerOf((onMetadata, done) =>
      stack.client.raw.placeLimitOrder(request, trader.metadata, (_err, response) => {
        orderId = response?.order?.orderId ?? 0n;
        done();
      }).on('metadata', onMetadata),
    );
    expect(placed).to.equal(String(orderId));
    const read = await headerOf((onMetadata, done) => stack.client.raw.getBalances({}, trader.metadata, done).on('metadata', onMetadata));
    expect(read).to.equal(placed);
    const stream = stack.client.raw.orderSession(trader.metadata);
    const streamed = new Promise<string>((resolve) => stream.on('metadata', (md: grpc.Metadata) => resolve(String(md.get('x-orderbook-sequence')[0] ?? ''))));
    stream.on('data', () => stream.end());
    stream.write(matching.OrderSessionRequest.fromPartial({ requestId: 1n, cancelOrder: { orderId } }));
    expect(Number(await streamed)).to.be.at.least(Number(placed));
  });

  it('is absent from a refused call', async () => {
    const refused = await headerOf((onMetadata, done) => stack.client.raw.getBalances({}, new grpc.Metadata(), () => done()).on('metadata', onMetadata));
    expect(refused).to.equal('');
  });
});
