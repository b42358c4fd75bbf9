import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { floodBookLevels } from './support/book-flood';
import { StreamReader } from './support/stream-reader';
import { TestStack, type Trader } from './support/test-stack';

const { SIDE_BUY, SIDE_SELL } = matching.Side;

type Book = Map<string, string>;

/**
 * A book rebuilt from a stream as a client does: a snapshot replaces the book (the first one, and
 * any conflated one sent to a reader that fell behind), an update is the next sequence number and
 * sets one level ("0" removes it).
 */
function replay(messages: readonly matching.StreamOrderBookResponse[]): { bids: Book; asks: Book; sequence: bigint } {
  let bids: Book = new Map();
  let asks: Book = new Map();
  let sequence = 0n;
  for (const [i, message] of messages.entries()) {
    if (message.snapshot !== undefined) {
      expect(i === 0 || message.conflated, 'only the first snapshot is not conflated').to.equal(true);
      bids = new Map(message.snapshot.bids.map((l) => [l.price, l.quantity]));
      asks = new Map(message.snapshot.asks.map((l) => [l.price, l.quantity]));
    } else {
      expect(message.sequence, 'sequence numbers are contiguous').to.equal(sequence + 1n);
      const update = message.update!;
      const side = update.side === SIDE_BUY ? bids : asks;
      if (update.quantity === '0') side.delete(update.price);
      else side.set(update.price, update.quantity);
    }
    sequence = message.sequence;
  }
  return { bids, asks, sequence };
}

const asMap = (levels: readonly matching.PriceLevel[]): Book => new Map(levels.map((l) => [l.price, l.quantity]));

/** Runs the tasks with at most `concurrency` of them at a time. */
async function pooled(tasks: ReadonlyArray<() => Promise<unknown>>, concurrency: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) await tasks[next++]();
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

describe('streams', () => {
  let stack: TestStack;
  let maker: Trader;
  let taker: Trader;

  before(async () => {
    stack = await TestStack.start();
    maker = await stack.newTrader('maker');
    taker = await stack.newTrader('taker');
    for (const trader of [maker, taker]) {
      await stack.fund(trader, 'USD', '1000000');
      await stack.fund(trader, 'BTC', '1000');
      await stack.fund(trader, 'ETH', '1000');
      await stack.fund(trader, 'SOL', '1000');
    }
  });
  after(() => stack.stop());

  describe('StreamOrderBook', () => {
    it('sends a snapshot, then every level change with contiguous sequence numbers', async () => {
      await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '90', quantity: '1' }, maker.metadata);
      await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '110', quantity: '2' }, maker.metadata);
      const reader = new StreamReader(stack.client.raw.streamOrderBook({ market: 'BTC-USD', depth: 0 }));
      const [first] = await reader.until((m) => m.length >= 1);
      expect(first.market).to.equal('BTC-USD');
      expect(first.snapshot?.sequence).to.equal(first.sequence);
      expect(asMap(first.snapshot!.bids)).to.deep.equal(new Map([['90', '1']]));

      await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '91', quantity: '1' }, maker.metadata);
      await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '90', quantity: '0.5' }, maker.metadata);
      await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '110', quantity: '0.5' }, taker.metadata);
      const { order } = await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '120', quantity: '1' }, maker.metadata);
      await stack.client.cancelOrder({ orderId: order!.orderId }, maker.metadata);
      const final = await stack.client.getOrderBook({ market: 'BTC-USD', depth: 1000 });

      const messages = await reader.until((m) => m.length > 0 && m[m.length - 1].sequence >= final.sequence);
      reader.cancel();
      expect(messages.slice(1).every((m) => m.update !== undefined && m.snapshot === undefined)).to.equal(true);
      const rebuilt = replay(messages);
      expect(rebuilt.sequence).to.equal(final.sequence);
      expect(rebuilt.bids).to.deep.equal(asMap(final.bids));
      expect(rebuilt.asks).to.deep.equal(asMap(final.asks));
      expect(rebuilt.bids).to.deep.equal(new Map([['91', '1'], ['90', '1.5']]));
      expect(rebuilt.asks).to.deep.equal(new Map([['110', '1.5']]));
    });

    it('loses nothing between the snapshot and the first update when subscribing during a flood of orders', async () => {
      const session = stack.client.raw.orderSession(maker.metadata);
      const answered = new StreamReader(session as unknown as grpc.ClientReadableStream<matching.OrderSessionResponse>);
      const total = 600;
      for (let i = 0; i < total; i++) {
        session.write(
          matching.OrderSessionRequest.fromPartial({ requestId: BigInt(i), placeLimitOrder: { market: 'ETH-USD', side: SIDE_BUY, price: `${1 + (i % 97)}`, quantity: '0.01' } }),
        );
        if (i === total / 3) {
          // Subscribe while hundreds of commands are in flight.
          await answered.until((m) => m.length >= 50);
        }
      }
      const reader = new StreamReader(stack.client.raw.streamOrderBook({ market: 'ETH-USD', depth: 1000 }));
      await answered.until((m) => m.length >= total);
      session.end();
      expect(answered.messages.filter((m) => m.error !== undefined)).to.deep.equal([]);
      const final = await stack.client.getOrderBook({ market: 'ETH-USD', depth: 1000 });
      const messages = await reader.until((m) => m.length > 0 && m[m.length - 1].sequence >= final.sequence);
      reader.cancel();
      const rebuilt = replay(messages);
      expect(rebuilt.bids).to.deep.equal(asMap(final.bids));
      expect(rebuilt.bids.size).to.equal(97);
    });
  });

  describe('StreamTrades', () => {
    it("sends the market's trades as they happen, and only that market's", async () => {
      const reader = new StreamReader(stack.client.raw.streamTrades({ market: 'BTC-USD' }));
      await stack.client.placeLimitOrder({ market: 'SOL-USD', side: SIDE_SELL, price: '50', quantity: '1' }, maker.metadata);
      await stack.client.placeMarketOrder({ market: 'SOL-USD', side: SIDE_BUY, quantity: '1' }, taker.metadata);
      await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '100', quantity: '0.25' }, maker.metadata);
      await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '100.5', quantity: '0.25' }, maker.metadata);
      const { trades } = await stack.client.placeMarketOrder({ market: 'BTC-USD', side: SIDE_BUY, quantity: '0.5' }, taker.metadata);
      expect(trades).to.have.length(2);
      const received = await reader.until((m) => m.length >= 2);
      reader.cancel();
      // The public stream shows no fee; the taker's own answer shows its own.
      expect(received.map((m) => m.trade)).to.deep.equal(trades.map((t) => ({ ...t, takerFee: '', takerFeeAsset: '' })));
      expect(trades.map((t) => [t.takerFee, t.takerFeeAsset, t.makerFee])).to.deep.equal([['0', 'BTC', ''], ['0', 'BTC', '']]);
      expect(received.every((m) => m.trade?.market === 'BTC-USD')).to.equal(true);
    });
  });

  describe('StreamOrderUpdates', () => {
    it("sends the caller's own order changes, and never another user's", async () => {
      const mine = new StreamReader(stack.client.raw.streamOrderUpdates({ market: '' }, taker.metadata));
      const theirs = new StreamReader(stack.client.raw.streamOrderUpdates({ market: '' }, maker.metadata));
      const { order: resting } = await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '105', quantity: '1' }, maker.metadata);
      const { order: taking, trades } = await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '105', quantity: '0.4' }, taker.metadata);
      const { order: sentinel } = await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '1', quantity: '1', clientOrderId: 'sentinel' }, taker.metadata);
      const { order: makerSentinel } = await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '1', quantity: '1', clientOrderId: 'sentinel' }, maker.metadata);

      const received = await mine.until((m) => m.some((u) => u.order?.orderId === sentinel!.orderId));
      const makerReceived = await theirs.until((m) => m.some((u) => u.order?.orderId === makerSentinel!.orderId));
      mine.cancel();
      theirs.cancel();

      const myIds = new Set([taking!.orderId, sentinel!.orderId]);
      expect(received.every((u) => myIds.has(u.order!.orderId)), 'only the taker’s orders').to.equal(true);
      expect(received.some((u) => u.order!.orderId === taking!.orderId && u.trade?.tradeId === trades[0].tradeId), 'the fill, with its trade').to.equal(true);
      const last = received.filter((u) => u.order!.orderId === taking!.orderId).at(-1);
      expect(last?.order).to.deep.equal(taking);

      const makerIds = new Set([resting!.orderId, makerSentinel!.orderId]);
      expect(makerReceived.every((u) => makerIds.has(u.order!.orderId)), 'only the maker’s orders').to.equal(true);
      expect(makerReceived.some((u) => u.order!.orderId === resting!.orderId && u.trade?.tradeId === trades[0].tradeId)).to.equal(true);
    });

    it('filters by market when asked', async () => {
      const reader = new StreamReader(stack.client.raw.streamOrderUpdates({ market: 'ETH-USD' }, taker.metadata));
      await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '2', quantity: '1' }, taker.metadata);
      const { order } = await stack.client.placeLimitOrder({ market: 'ETH-USD', side: SIDE_BUY, price: '2', quantity: '1' }, taker.metadata);
      const received = await reader.until((m) => m.length >= 1);
      reader.cancel();
      expect(received.map((u) => u.order?.orderId)).to.deep.equal([order!.orderId]);
    });
  });
});

describe('a stream consumer that does not read', () => {
  const BUFFER = 64;
  let stack: TestStack;
  let trader: Trader;

  before(async () => {
    stack = await TestStack.start({ matchingEnv: { MATCHING_STREAM_BUFFER: String(BUFFER) } });
    trader = await stack.newTrader();
    await stack.fund(trader, 'BTC', '100');
  });
  after(() => stack.stop());

  async function slowConsumersMetric(): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${stack.matching.metricsPort}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('matching_stream_slow_consumers_total{stream="order_updates"}'));
    return line === undefined ? 0 : Number(line.split(' ')[1]);
  }

  it('is ended with RESOURCE_EXHAUSTED once it falls behind, while a reading subscriber gets everything', async function () {
    // 1,500 journaled orders: ~13 s on a machine shared with other work, past mocha's default bound.
    this.timeout(60_000);
    // The slow client reads its first message, then stops reading. (grpc-js buffers without
    // bound for a stream that was never read at all, so that one would not push back.)
    const slow = stack.client.raw.streamOrderUpdates({ market: '' }, trader.metadata);
    const slowMessages: matching.StreamOrderUpdatesResponse[] = [];
    let reading = false;
    slow.on('data', (message: matching.StreamOrderUpdatesResponse) => {
      slowMessages.push(message);
      if (!reading) slow.pause();
    });
    const slowStatus = new Promise<grpc.StatusObject>((resolve) => slow.on('status', resolve));
    const slowEnd = new Promise<void>((resolve) => slow.on('end', resolve));
    slow.on('error', () => undefined);
    const healthy = new StreamReader(stack.client.raw.streamOrderUpdates({ market: '' }, trader.metadata));

    // Each order is one ~70-byte update: far more than HTTP/2's 64 KiB window plus the buffers.
    const total = 1500;
    const placed: bigint[] = [];
    await pooled(
      Array.from({ length: total }, (_, i) => async () => {
        const { order } = await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: `${1000 + i}`, quantity: '0.01' }, trader.metadata);
        placed.push(order!.orderId);
      }),
      8,
    );
    expect(await slowConsumersMetric()).to.equal(1);

    reading = true;
    slow.resume();
    const status = await slowStatus;
    await slowEnd;
    expect(grpc.status[status.code]).to.equal('RESOURCE_EXHAUSTED');
    expect(status.details).to.match(/too slow/);
    expect(slowMessages.length).to.be.above(1);
    expect(slowMessages.length).to.be.below(total);
    expect(slowMessages.map((m) => m.order!.orderId), 'what it did get is a gap-free prefix').to.deep.equal(
      healthy.messages.slice(0, slowMessages.length).map((m) => m.order!.orderId),
    );

    const all = await healthy.until((m) => m.length >= total);
    expect(healthy.status).to.equal(undefined);
    expect(new Set(all.map((u) => u.order!.orderId))).to.deep.equal(new Set(placed));
    healthy.cancel();
  });
});

describe('a book reader that falls behind', () => {
  let stack: TestStack;
  let maker: Trader;

  before(async () => {
    stack = await TestStack.start();
    maker = await stack.newTrader();
    await stack.fund(maker, 'USD', '100000000');
  });
  after(() => stack.stop());

  it('is conflated: a fresh snapshot marked conflated replaces what it missed, and its book ends equal to the engine\'s', async () => {
    const stream = stack.client.raw.streamOrderBook({ market: 'SOL-USD', depth: 1000 });
    const messages: matching.StreamOrderBookResponse[] = [];
    stream.on('data', (message: matching.StreamOrderBookResponse) => {
      messages.push(message);
      if (messages.length === 1) stream.pause();
    });
    stream.on('error', () => undefined);
    while (messages.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));

    const total = 3000;
    await floodBookLevels(stack, maker, 'SOL-USD', total);
    await new Promise((resolve) => setTimeout(resolve, 400));
    stream.resume();

    const final = await stack.client.getOrderBook({ market: 'SOL-USD', depth: 1000 });
    while (messages.at(-1)!.sequence < final.sequence) await new Promise((resolve) => setTimeout(resolve, 10));
    stream.cancel();
    const conflated = messages.filter((m) => m.conflated);
    expect(conflated.length, 'at least one conflated snapshot').to.be.greaterThan(0);
    expect(conflated.every((m) => m.snapshot !== undefined)).to.equal(true);
    expect(messages.length, 'far fewer messages than changes').to.be.below(total);

    expect(replay(messages).bids).to.deep.equal(asMap(final.bids));
    expect(messages[0]!.conflated, 'the first snapshot is not conflated').to.equal(false);
  });
});

describe('stream limits', () => {
  let stack: TestStack;

  before(async () => {
    stack = await TestStack.start({ matchingEnv: { MATCHING_MAX_STREAMS_PER_PEER: '3' } });
  });
  after(() => stack.stop());

  it('refuses a stream past the per-peer limit with RESOURCE_EXHAUSTED, and gives the place back when a stream ends', async () => {
    const open = () => new StreamReader(stack.client.raw.streamOrderBook({ market: 'BTC-USD', depth: 1 }));
    const held = [open(), open(), open()];
    await Promise.all(held.map((reader) => reader.until((m) => m.length > 0)));
    const refused = await open().ended();
    expect(grpc.status[refused.code]).to.equal('RESOURCE_EXHAUSTED');
    expect(refused.details).to.match(/127\.0\.0\.1 already has 3 open streams \(MATCHING_MAX_STREAMS_PER_PEER\)/);

    // Connect and disconnect in a loop: every ended stream gives its place back (once the server
    // has seen the cancel, so a client retries as RetryInfo says).
    const openOnceFree = async (): Promise<StreamReader<matching.StreamOrderBookResponse>> => {
      for (let attempt = 0; attempt < 100; attempt++) {
        const reader = open();
        const outcome = await reader.until((m) => m.length > 0).then(() => 'open' as const, () => 'ended' as const);
        if (outcome === 'open') return reader;
        expect(grpc.status[reader.status!.code]).to.equal('RESOURCE_EXHAUSTED');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return expect.fail('the place of a cancelled stream never came back');
    };
    for (let i = 0; i < 20; i++) {
      held.shift()!.stream.cancel();
      held.push(await openOnceFree());
    }
    for (const reader of held) reader.stream.cancel();
  });
});
