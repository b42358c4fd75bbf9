import { credentials, status, type ServerWritableStream } from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { OrderbookError } from '../src/errors';
import { LiveOrderBook } from '../src/live-order-book';
import type { RetryClock } from '../src/retry';
import { startFakeMatching, type FakeServer } from './support/fake-matching';

const { SIDE_BUY, SIDE_SELL } = matching.Side;
const noWait: RetryClock = { random: () => 0, sleep: async () => undefined };
const policy = { maxAttempts: 5, initialDelayMs: 1, maxDelayMs: 1 };

type Stream = ServerWritableStream<matching.StreamOrderBookRequest, matching.StreamOrderBookResponse>;
type Script = (stream: Stream) => void;

const level = (price: string, quantity: string): matching.PriceLevel => ({ price, quantity, orderCount: 1 });
const snapshot = (sequence: number, bids: matching.PriceLevel[], asks: matching.PriceLevel[], conflated = false): matching.StreamOrderBookResponse =>
  matching.StreamOrderBookResponse.fromPartial({ market: 'BTC-USD', sequence: BigInt(sequence), snapshot: { market: 'BTC-USD', bids, asks, sequence: BigInt(sequence) }, conflated });
const update = (sequence: number, side: matching.Side, price: string, quantity: string): matching.StreamOrderBookResponse =>
  matching.StreamOrderBookResponse.fromPartial({ market: 'BTC-USD', sequence: BigInt(sequence), update: { side, price, quantity, orderCount: quantity === '0' ? 0 : 1 } });

describe('the live order book (against a scripted stream)', () => {
  let server: FakeServer | undefined;
  let client: matching.MatchingServiceClient | undefined;
  let book: LiveOrderBook | undefined;
  afterEach(async () => {
    book?.close();
    client?.close();
    await server?.stop();
  });

  /** Serves StreamOrderBook with one script per subscription, in order; later ones stay silent. */
  async function open(scripts: Script[]): Promise<{ subscriptions: () => number }> {
    let subscriptions = 0;
    server = await startFakeMatching({
      streamOrderBook: (stream) => {
        if (stream.request.market !== 'BTC-USD') {
          stream.emit('error', { code: status.INVALID_ARGUMENT, details: 'market: unknown' });
          return;
        }
        scripts[subscriptions++]?.(stream);
      },
    });
    client = new matching.MatchingServiceClient(server.address, credentials.createInsecure());
    return { subscriptions: () => subscriptions };
  }

  it('applies changes in sequence and exposes best bid, best ask and depth, prices ordered exactly', async () => {
    await open([
      (s) => {
        s.write(snapshot(5, [level('99.5', '1'), level('100', '2')], [level('100.25', '3'), level('1000', '1')]));
        s.write(update(6, SIDE_BUY, '100.000001', '4'));
        s.write(update(7, SIDE_SELL, '100.25', '0'));
        s.write(update(8, SIDE_SELL, '101', '5'));
      },
    ]);
    book = await LiveOrderBook.open(client!, 'BTC-USD', {}, policy, noWait);
    await book.until((b) => b.sequence === 8n);
    expect(book.bestBid()).to.deep.equal({ price: '100.000001', quantity: '4', orderCount: 1 });
    expect(book.bestAsk()).to.deep.equal({ price: '101', quantity: '5', orderCount: 1 });
    expect(book.depth(2)).to.deep.equal({
      bids: [level('100.000001', '4'), level('100', '2')],
      asks: [level('101', '5'), level('1000', '1')],
    });
    expect(book.resyncs).to.deep.equal({ gaps: 0, conflations: 0, reconnects: 0 });
  });

  it('on a sequence gap drops the stream and rebuilds from a fresh snapshot, never applying the update past the gap', async () => {
    const seen: bigint[] = [];
    const { subscriptions } = await open([
      (s) => {
        s.write(snapshot(5, [level('100', '1')], []));
        s.write(update(6, SIDE_BUY, '101', '2'));
        s.write(update(8, SIDE_BUY, '102', '3'));
      },
      (s) => {
        s.write(snapshot(10, [level('100', '1'), level('101', '2'), level('102', '3')], [level('105', '1')]));
        s.write(update(11, SIDE_SELL, '104', '1'));
      },
    ]);
    book = await LiveOrderBook.open(client!, 'BTC-USD', { onChange: (b) => void seen.push(b.sequence!) }, policy, noWait);
    await book.until((b) => b.sequence === 11n);
    expect(seen).to.deep.equal([5n, 6n, 10n, 11n]);
    expect(book.resyncs).to.deep.equal({ gaps: 1, conflations: 0, reconnects: 0 });
    expect(subscriptions()).to.equal(2);
    expect([book.bestBid()?.price, book.bestAsk()?.price]).to.deep.equal(['102', '104']);
  });

  it('lets a conflated snapshot replace the whole book and jump the sequence, on the same stream', async () => {
    const { subscriptions } = await open([
      (s) => {
        s.write(snapshot(1, [level('100', '1'), level('90', '1')], []));
        s.write(update(2, SIDE_BUY, '95', '1'));
        s.write(snapshot(40, [level('97', '2')], [level('98', '1')], true));
        s.write(update(41, SIDE_BUY, '96', '1'));
      },
    ]);
    book = await LiveOrderBook.open(client!, 'BTC-USD', {}, policy, noWait);
    await book.until((b) => b.sequence === 41n);
    expect(book.depth()).to.deep.equal({ bids: [level('97', '2'), level('96', '1')], asks: [level('98', '1')] });
    expect(book.resyncs).to.deep.equal({ gaps: 0, conflations: 1, reconnects: 0 });
    expect(subscriptions()).to.equal(1);
  });

  it('subscribes again when the stream ends with an error, and takes the new snapshot', async () => {
    await open([
      (s) => {
        s.write(snapshot(3, [level('100', '1')], []));
        setTimeout(() => s.emit('error', { code: status.UNAVAILABLE, details: 'shutting down' }), 20);
      },
      (s) => s.write(snapshot(7, [level('101', '1')], [])),
    ]);
    book = await LiveOrderBook.open(client!, 'BTC-USD', {}, policy, noWait);
    await book.until((b) => b.sequence === 7n);
    expect(book.bestBid()?.price).to.equal('101');
    expect(book.resyncs.reconnects).to.equal(1);
  });

  it('fails to open once the retry policy\'s attempts at a first snapshot are spent', async () => {
    const unavailable: Script = (s) => s.emit('error', { code: status.UNAVAILABLE, details: 'starting' });
    const { subscriptions } = await open(Array.from({ length: 10 }, () => unavailable));
    const err = await LiveOrderBook.open(client!, 'BTC-USD', {}, policy, noWait).catch((e: unknown) => e);
    expect((err as OrderbookError).code).to.equal(status.UNAVAILABLE);
    expect(subscriptions()).to.equal(policy.maxAttempts);
  });

  it('fails to open for a market the service refuses, with the typed error', async () => {
    await open([]);
    const err = await LiveOrderBook.open(client!, 'NOPE-USD', {}, policy, noWait).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(OrderbookError);
    expect((err as OrderbookError).code).to.equal(status.INVALID_ARGUMENT);
  });
});
