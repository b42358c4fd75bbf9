import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching, OrderbookClient, OrderbookError, type LiveOrderBook } from '@orderbook/client';
import { bestPrices } from '@orderbook/client/examples/live-book';
import { placeAndCancel } from '@orderbook/client/examples/place-order';
import { bearer } from '@orderbook/test-support';
import { floodBookLevels } from './support/book-flood';
import { ADMIN_PASSWORD, TestStack, type Trader } from './support/test-stack';

const { SIDE_BUY, SIDE_SELL } = matching.Side;
const passwordOf = (trader: Trader): string => `password-${trader.username}`;

/**
 * A client-side interceptor that lets the first PlaceLimitOrder reach the service but turns its
 * answer into UNAVAILABLE, as a connection lost before the answer arrived would.
 */
function losingFirstPlacement(): grpc.Interceptor {
  let lost = false;
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, _listener, next) {
        const lose = !lost && options.method_definition.path === '/orderbook.matching.v1.MatchingService/PlaceLimitOrder';
        lost ||= lose;
        next(metadata, {
          onReceiveStatus: (status: grpc.StatusObject, nextStatus: (s: grpc.StatusObject) => void) =>
            nextStatus(lose ? { code: grpc.status.UNAVAILABLE, details: 'connection reset (test)', metadata: new grpc.Metadata() } : status),
        });
      },
    });
}

/** Runs fn with console output swallowed (the README examples print). */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const { log, error } = console;
  console.log = () => undefined;
  console.error = () => undefined;
  try {
    return await fn();
  } finally {
    Object.assign(console, { log, error });
  }
}

const levels = (book: matching.GetOrderBookResponse): unknown => ({
  bids: book.bids.map((l) => [l.price, l.quantity]),
  asks: book.asks.map((l) => [l.price, l.quantity]),
});
const liveLevels = (book: LiveOrderBook): unknown => {
  const { bids, asks } = book.depth(1000);
  return { bids: bids.map((l) => [l.price, l.quantity]), asks: asks.map((l) => [l.price, l.quantity]) };
};

describe('@orderbook/client against the real services', () => {
  let stack: TestStack;
  let trader: Trader;
  let client: OrderbookClient;
  const clients: OrderbookClient[] = [];

  function newClient(options: Partial<ConstructorParameters<typeof OrderbookClient>[0]> = {}): OrderbookClient {
    const made = new OrderbookClient({ authAddress: stack.auth.address, matchingAddress: stack.matching.address, retry: { initialDelayMs: 50, maxDelayMs: 500, maxAttempts: 8 }, ...options });
    clients.push(made);
    return made;
  }

  before(async () => {
    stack = await TestStack.start();
    trader = await stack.newTrader('client');
    for (const [asset, amount] of [['USD', '10000000'], ['BTC', '100'], ['ETH', '1000'], ['SOL', '100000']] as const) await stack.fund(trader, asset, amount);
    client = newClient();
    await client.signIn({ login: trader.username, password: passwordOf(trader) });
  });
  after(async () => {
    for (const made of clients) made.close();
    await stack.stop();
  });

  it('places and cancels an order, and fails with a typed error naming the field', async () => {
    const { order } = await client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '10', quantity: '2' });
    expect([order.status, order.clientOrderId.length > 0]).to.deep.equal([matching.OrderStatus.ORDER_STATUS_OPEN, true]);
    expect((await client.getOrder(order.orderId))?.clientOrderId).to.equal(order.clientOrderId);
    const cancelled = await client.cancelOrder(order.orderId);
    expect([cancelled.order.status, cancelled.releasedAmount, cancelled.releasedAsset]).to.deep.equal([matching.OrderStatus.ORDER_STATUS_CANCELLED, '20', 'USD']);

    const err = await client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '-1', quantity: '1' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(OrderbookError);
    expect((err as OrderbookError).code).to.equal(grpc.status.INVALID_ARGUMENT);
    expect((err as OrderbookError).message).to.match(/^price/);
    // Decoded from the grpc-status-details-bin trailer the services send.
    expect((err as OrderbookError).reason).to.equal('INVALID_FIELD');
    expect((err as OrderbookError).fieldViolations.map((v) => v.field)).to.deep.equal(['price']);

    const broke = await client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '50000', quantity: '1000' }).catch((e: unknown) => e);
    expect([(broke as OrderbookError).code, (broke as OrderbookError).reason]).to.deep.equal([grpc.status.FAILED_PRECONDITION, 'INSUFFICIENT_FUNDS']);
  });

  it('lists the markets with their fees and rules, and reads the fee account as an admin (PERMISSION_DENIED for a trader)', async () => {
    expect((await client.listMarkets()).map((m) => [m.symbol, m.takerFeeBps, m.tickSize])).to.deep.include(['BTC-USD', 0, '0.000001']);
    const denied = await client.getFeeBalances().catch((e: unknown) => e);
    expect((denied as OrderbookError).code).to.equal(grpc.status.PERMISSION_DENIED);
    const admin = newClient();
    await admin.signIn({ login: 'admin', password: 'admin-password-for-tests' });
    expect((await admin.getFeeBalances()).accountId).to.equal('exchange:fees');
  });

  it('places once when the answer to the first attempt is lost: the retry, with the same client_order_id, gets that order', async () => {
    const lossy = newClient({ channelOptions: { interceptors: [losingFirstPlacement()] } });
    await lossy.signIn({ login: trader.username, password: passwordOf(trader) });
    const before = await stack.balances(trader);
    const placed = await lossy.placeLimitOrder({ market: 'ETH-USD', side: SIDE_BUY, price: '3', quantity: '7' });
    const mine = (await lossy.listOrders({ market: 'ETH-USD' })).orders.filter((o) => o.clientOrderId === placed.order.clientOrderId);
    expect(mine.map((o) => o.orderId)).to.deep.equal([placed.order.orderId]);
    const after = await stack.balances(trader);
    expect(Number(after.USD![1]) - Number(before.USD?.[1] ?? 0), 'locked once: 3 × 7').to.equal(21);
    await lossy.cancelOrder(placed.order.orderId);
    await lossy.signOut();
  });

  it('refreshes the access token ahead of expiry at the real auth for concurrent calls, and matching accepts the new one', async () => {
    let skewMs = 0;
    const skewed = newClient({ now: () => Date.now() + skewMs, refreshAheadMs: 60_000 });
    await skewed.signIn({ login: trader.username, password: passwordOf(trader) });
    const first = await skewed.tokens.accessToken();
    // 15 minutes of lifetime: seen 14.5 minutes later, the token is within a minute of expiry.
    skewMs = 870_000;
    const balances = await Promise.all(Array.from({ length: 10 }, () => skewed.getBalances()));
    expect(balances.every((b) => b.length > 0)).to.equal(true);
    const second = await skewed.tokens.accessToken();
    expect(second).to.not.equal(first);
    expect((await stack.client.getBalances(bearer(second))).balances.length).to.be.greaterThan(0);
    await skewed.signOut();
    const err = await skewed.getBalances().catch((e: unknown) => e);
    expect((err as OrderbookError).reason).to.equal('NOT_SIGNED_IN');
  });

  it('reads fills, recent trades, the ticker and candles; an admin withdraws once and reads the ledger', async () => {
    const seller = await stack.newTrader('seller');
    await stack.fund(seller, 'SOL', '10');
    await stack.client.placeLimitOrder({ market: 'SOL-USD', side: SIDE_SELL, price: '150', quantity: '2' }, seller.metadata);
    const { order, trades } = await client.placeMarketOrder({ market: 'SOL-USD', side: SIDE_BUY, quantity: '2' });
    const { fills } = await client.listTrades({ market: 'SOL-USD' });
    expect(fills.map((f) => [f.tradeId, f.orderId, f.liquidity])).to.deep.equal([[trades[0]!.tradeId, order.orderId, matching.Liquidity.LIQUIDITY_TAKER]]);
    expect((await client.getRecentTrades('SOL-USD', 1)).map((t) => t.tradeId)).to.deep.equal([trades[0]!.tradeId]);
    expect(await client.getTicker('SOL-USD')).to.include({ lastPrice: '150', volume: '2', quoteVolume: '300' });
    expect((await client.listCandles('SOL-USD', matching.CandleInterval.CANDLE_INTERVAL_FIVE_MINUTES))[0]).to.include({ open: '150', volume: '2' });

    const admin = newClient();
    await admin.signIn({ login: 'admin', password: ADMIN_PASSWORD });
    const withdrawal = { userId: seller.userId, asset: 'USD', amount: '100', requestId: 'sdk-payout-1', reference: 'wire sdk' };
    const first = await admin.withdrawFunds(withdrawal);
    expect(await admin.withdrawFunds(withdrawal)).to.deep.equal(first);
    expect(first.balance).to.deep.equal({ asset: 'USD', available: '200', locked: '0' });
    const { entries } = await admin.listLedgerEntries({ userId: seller.userId });
    expect(entries.map((e) => [e.kind, e.amount, e.adminId])).to.deep.equal([
      [matching.LedgerEntryKind.LEDGER_ENTRY_KIND_WITHDRAWAL, '100', stack.admin.userId],
      [matching.LedgerEntryKind.LEDGER_ENTRY_KIND_DEPOSIT, '10', stack.admin.userId],
    ]);
    const denied = await client.listLedgerEntries({ userId: seller.userId }).catch((e: unknown) => e);
    expect((denied as OrderbookError).code).to.equal(grpc.status.PERMISSION_DENIED);
  });

  it('streams trades and the caller\'s order updates as async iterables', async () => {
    const maker = await stack.newTrader('client-maker');
    await stack.fund(maker, 'SOL', '10');
    const makerClient = newClient();
    await makerClient.signIn({ login: maker.username, password: passwordOf(maker) });
    const trades = await client.trades('SOL-USD');
    const updates = await client.orderUpdates('SOL-USD');
    await makerClient.placeLimitOrder({ market: 'SOL-USD', side: SIDE_SELL, price: '20', quantity: '1' });
    const taken = await client.placeMarketOrder({ market: 'SOL-USD', side: SIDE_BUY, quantity: '1' });
    const received: matching.Trade[] = [];
    for await (const trade of trades) {
      received.push(trade);
      break;
    }
    // Public trades carry no fee; the taker's own answer its own.
    expect(received).to.deep.equal(taken.trades.map((t) => ({ ...t, takerFee: '', takerFeeAsset: '' })));
    const seen: bigint[] = [];
    for await (const update of updates) {
      seen.push(update.order!.orderId);
      if (update.order!.orderId === taken.order.orderId) break;
    }
    expect(seen).to.include(taken.order.orderId);
  });

  it('keeps a live book equal to the engine\'s while orders change it', async () => {
    const book = await client.liveBook('ETH-USD');
    try {
      for (let i = 0; i < 20; i++) await client.placeLimitOrder({ market: 'ETH-USD', side: i % 2 === 0 ? SIDE_BUY : SIDE_SELL, price: `${i % 2 === 0 ? 100 - i : 200 + i}`, quantity: '1' });
      const engine = await client.getOrderBook('ETH-USD', 1000);
      await book.until((b) => b.sequence! >= engine.sequence);
      expect(liveLevels(book)).to.deep.equal(levels(engine));
      expect(book.bestBid()?.price).to.equal(engine.bids[0]?.price);
      expect(book.bestAsk()?.price).to.equal(engine.asks[0]?.price);
    } finally {
      book.close();
    }
  });

  it('rebuilds itself from the conflated snapshot when a slow reader falls behind', async () => {
    let released!: () => void;
    const gate = new Promise<void>((resolve) => (released = resolve));
    let first = true;
    const book = await client.liveBook('SOL-USD', {
      // The first change is held until the flood is over: the reader falls far behind.
      onChange: async () => {
        if (!first) return;
        first = false;
        await gate;
      },
    });
    try {
      await floodBookLevels(stack, trader, 'SOL-USD');
      await new Promise((resolve) => setTimeout(resolve, 700));
      released();
      const engine = await client.getOrderBook('SOL-USD', 1000);
      await book.until((b) => b.sequence! >= engine.sequence);
      expect(book.resyncs.conflations, 'a conflated snapshot arrived').to.be.greaterThan(0);
      expect(book.resyncs.gaps).to.equal(0);
      expect(liveLevels(book)).to.deep.equal(levels(engine));
    } finally {
      book.close();
    }
  });

  it('resubscribes by itself across a restart of matching and ends equal to the engine\'s book', async () => {
    const book = await client.liveBook('BTC-USD');
    try {
      const { order } = await client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '31000', quantity: '0.5' });
      await book.until((b) => b.bestAsk()?.price === '31000');
      const port = stack.matching.address.slice(stack.matching.address.lastIndexOf(':') + 1);
      stack.client.close();
      await stack.matching.stop();
      await stack.startMatching({ MATCHING_PORT: port });
      // The same client, the same address: the write is retried until matching answers again.
      await client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '30500', quantity: '0.25' });
      const engine = await client.getOrderBook('BTC-USD', 1000);
      await book.until((b) => b.bestAsk()?.price === '30500' && b.sequence! >= engine.sequence);
      expect(book.resyncs.reconnects, 'the stream was resubscribed').to.be.greaterThan(0);
      expect(liveLevels(book)).to.deep.equal(levels(engine));
      await client.cancelOrder(order.orderId);
    } finally {
      book.close();
    }
  });

  it('runs the README examples of packages/client', async () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'packages', 'client', 'README.md'), 'utf8');
    for (const example of ['place-order.ts', 'live-book.ts']) {
      expect(readme, `README shows examples/${example}`).to.include(readFileSync(join(__dirname, '..', '..', 'packages', 'client', 'examples', example), 'utf8'));
    }
    const cancelled = await quietly(() => placeAndCancel(stack.auth.address, stack.matching.address, trader.username, passwordOf(trader)));
    expect(cancelled.status).to.equal(matching.OrderStatus.ORDER_STATUS_CANCELLED);

    await client.placeLimitOrder({ market: 'ETH-USD', side: SIDE_SELL, price: '500', quantity: '1' });
    await client.placeLimitOrder({ market: 'ETH-USD', side: SIDE_BUY, price: '50', quantity: '1' });
    const engine = await client.getOrderBook('ETH-USD', 1);
    const best = await quietly(() => bestPrices(stack.auth.address, stack.matching.address, 'ETH-USD'));
    expect([best.bid.price, best.ask.price]).to.deep.equal([engine.bids[0]!.price, engine.asks[0]!.price]);
  });
});
