import { expect } from 'chai';
import { eventually } from '@orderbook/test-support';
import { HttpStack } from './http-stack';
import { SseReader } from './sse-reader';

/** Server streams as Server-Sent Events: ids, resume with Last-Event-ID, resynchronisation, errors. */
describe('gateway: event streams (SSE)', () => {
  let stack: HttpStack;
  let seller: { token: string; userId: string };
  let buyer: { token: string; userId: string };
  const open: SseReader[] = [];

  async function events(path: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const reader = await SseReader.open(`${stack.url}${path}`, headers);
    open.push(reader);
    return reader;
  }

  const sell = (price: string, quantity = '0.1') =>
    stack.call('POST', '/v1/orders', { token: seller.token, body: { market: 'BTC-USD', side: 'SIDE_SELL', price, quantity } });

  before(async () => {
    stack = await HttpStack.start('gateway-events', { GATEWAY_SSE_RESUME_SECONDS: '30' });
    const admin = await stack.admin();
    seller = await stack.trader('seller');
    buyer = await stack.trader('buyer');
    await stack.call('POST', `/v1/users/${seller.userId}/funds`, { token: admin, body: { asset: 'BTC', amount: '10' } });
    await stack.call('POST', `/v1/users/${buyer.userId}/funds`, { token: admin, body: { asset: 'USD', amount: '1000000' } });
  });
  afterEach(() => open.splice(0).forEach((r) => r.close()));
  after(() => stack.stop());

  it('sends the book as a snapshot then level updates, each with its book sequence as the event id', async () => {
    const book = await events('/v1/markets/BTC-USD/book/events?depth=5');
    expect(book.status).to.equal(200);
    expect(book.headers.get('content-type')).to.match(/^text\/event-stream/);
    const [snapshot] = await book.take(1);
    expect(snapshot!.event).to.equal('message');
    expect(snapshot!.data.snapshot.market).to.equal('BTC-USD');
    // The proto3 JSON mapping leaves out a zero sequence (an empty book's).
    expect(snapshot!.id).to.equal(snapshot!.data.sequence ?? '0');
    await sell('40000');
    const [, update] = await book.take(2);
    expect(update!.data.update).to.deep.equal({ side: 'SIDE_SELL', price: '40000', quantity: '0.1', orderCount: 1 });
    expect(BigInt(update!.id!)).to.equal(BigInt(snapshot!.id!) + 1n);
  });

  it('resumes after a reconnect with Last-Event-ID: the update made while away arrives, no snapshot, no gap', async () => {
    const first = await events('/v1/markets/BTC-USD/book/events');
    const seen = await first.take(1);
    const lastId = seen[0]!.id!;
    first.close();
    await sell('40100');
    await sell('40200');
    const again = await events('/v1/markets/BTC-USD/book/events', { 'last-event-id': lastId });
    const resumed = await again.take(2);
    expect(resumed.map((e) => e.data.update?.price)).to.deep.equal(['40100', '40200']);
    expect(resumed.map((e) => BigInt(e.id!))).to.deep.equal([BigInt(lastId) + 1n, BigInt(lastId) + 2n]);
  });

  it('resynchronises a client whose position it no longer holds: a resync event, then a fresh snapshot', async () => {
    const stream = await events('/v1/markets/BTC-USD/book/events', { 'last-event-id': '999999999' });
    const [resync, snapshot] = await stream.take(2);
    expect(resync).to.deep.equal({ event: 'resync', data: { lastEventId: '999999999' } });
    expect(snapshot!.data.snapshot.asks.map((l: { price: string }) => l.price)).to.include.members(['40000', '40100', '40200']);
  });

  it('streams trades and the caller\'s own order updates (with the bearer token)', async () => {
    const trades = await events('/v1/markets/BTC-USD/trades/events');
    const mine = await events('/v1/order-updates/events?market=BTC-USD', { authorization: `Bearer ${seller.token}` });
    expect([trades.status, mine.status]).to.deep.equal([200, 200]);
    const bought = await stack.call('POST', '/v1/orders/market', { token: buyer.token, body: { market: 'BTC-USD', side: 'SIDE_BUY', quantity: '0.1' } });
    expect(bought.status).to.equal(200);
    const [trade] = await trades.take(1);
    expect(trade!.data.trade).to.include({ price: '40000', quantity: '0.1', takerSide: 'SIDE_BUY' });
    expect(trade!.id).to.match(/^\d+$/);
    const [update] = await mine.take(1);
    expect(update!.data.order).to.include({ price: '40000', status: 'ORDER_STATUS_FILLED' });
    expect(update!.data.trade.tradeId).to.equal(trade!.data.trade.tradeId);
  });

  it('answers a stream the service refuses with the HTTP status, not an event stream: 401 without a token, 400 for an unknown market', async () => {
    const anonymous = await events('/v1/order-updates/events');
    expect(anonymous.status).to.equal(401);
    expect(anonymous.errorJson.code).to.equal(16);
    const unknown = await events('/v1/markets/NOPE-USD/book/events');
    expect(unknown.status).to.equal(400);
    expect(unknown.errorJson.message).to.match(/^market: /);
  });

  it('ends an event stream with an error event (google.rpc.Status JSON) when the service goes away', async () => {
    const other = await HttpStack.start('gateway-events-down');
    try {
      const reader = await SseReader.open(`${other.url}/v1/markets/BTC-USD/trades/events`);
      expect(reader.status).to.equal(200);
      const stopping = other.services.matching.stop();
      const [ended] = await reader.take(1);
      await stopping;
      expect(ended!.event).to.equal('error');
      expect(ended!.data.code).to.equal(14);
      await eventually(() => reader.ended || undefined, 'the connection to close');
    } finally {
      await other.stop();
    }
  });
});
