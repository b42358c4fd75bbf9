import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { expectStatus } from '@orderbook/test-support';
import { TestStack, type Trader } from './support/test-stack';

const { SIDE_BUY, SIDE_SELL } = matching.Side;
const { LIQUIDITY_MAKER, LIQUIDITY_TAKER } = matching.Liquidity;
const { LEDGER_ENTRY_KIND_DEPOSIT, LEDGER_ENTRY_KIND_WITHDRAWAL } = matching.LedgerEntryKind;
const HOSTILE_TOKENS = ['abc', '-1', '0', '1.5', '9'.repeat(10_000), '9007199254740993'];

/** Withdrawals, the funds ledger, trade history and the ticker through real gRPC servers. */
describe('withdrawals, the funds ledger, trade history and the ticker', () => {
  let stack: TestStack;
  let alice: Trader;
  let bob: Trader;
  let carol: Trader;

  before(async () => {
    stack = await TestStack.start({ matchingEnv: { MATCHING_FILLS_RETAINED_PER_USER: '3' } });
    [alice, bob, carol] = [await stack.newTrader('alice'), await stack.newTrader('bob'), await stack.newTrader('carol')];
    await stack.client.addFunds({ userId: alice.userId, asset: 'USD', amount: '1000', requestId: 'd-1' }, stack.admin.metadata);
    await stack.fund(bob, 'BTC', '10');
  });
  after(() => stack.stop());

  it('withdraws available funds only, records the admin and reference, and answers a retry with the original', async () => {
    await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '100', quantity: '3' }, alice.metadata); // locks 300
    const request = { userId: alice.userId, asset: 'USD', amount: '200', requestId: 'w-1', reference: 'wire 2026-11-30/7' };
    const first = await stack.client.withdrawFunds(request, stack.admin.metadata);
    expect(first.balance).to.deep.equal({ asset: 'USD', available: '500', locked: '300' });
    expect(first.entry).to.include({ kind: LEDGER_ENTRY_KIND_WITHDRAWAL, asset: 'USD', amount: '200', requestId: 'w-1', adminId: stack.admin.userId, reference: request.reference, balanceAfter: '500' });
    const again = await stack.client.withdrawFunds(request, stack.admin.metadata);
    expect(again.entry).to.deep.equal(first.entry);
    expect(await stack.balances(alice)).to.deep.equal({ USD: ['500', '300'] });
    await expectStatus(stack.client.withdrawFunds({ ...request, amount: '201' }, stack.admin.metadata), grpc.status.ALREADY_EXISTS, /^request_id: /);
    const over = await expectStatus(
      stack.client.withdrawFunds({ ...request, requestId: 'w-2', amount: '500.00000001' }, stack.admin.metadata),
      grpc.status.FAILED_PRECONDITION,
      /^amount: 500\.00000001 USD is more than the 500 available/,
    );
    expect(over.message).to.include('locked by open orders cannot be withdrawn');
    expect(await stack.balances(alice)).to.deep.equal({ USD: ['500', '300'] });
  });

  it('refuses bad input naming the field, and non-admins with PERMISSION_DENIED', async () => {
    const good = { userId: alice.userId, asset: 'USD', amount: '1', reference: 'ref' };
    const cases: [Partial<matching.WithdrawFundsRequest>, RegExp][] = [
      [{ userId: 'not-a-uuid' }, /^user_id: /],
      [{ userId: '' }, /^user_id: /],
      [{ asset: 'DOGE' }, /^asset: /],
      [{ amount: '-1' }, /^amount: /],
      [{ amount: '0' }, /^amount: /],
      [{ amount: '1e3' }, /^amount: /],
      [{ amount: '9'.repeat(10_000) }, /^amount: /],
      [{ amount: '18446744073709551616' }, /^amount: /],
      [{ reference: '' }, /^reference: required/],
      [{ reference: 'r'.repeat(129) }, /^reference: at most 128/],
      [{ reference: 'new\nline' }, /^reference: only printable/],
      [{ requestId: 'x'.repeat(65) }, /^request_id: /],
    ];
    for (const [change, message] of cases) {
      await expectStatus(stack.client.withdrawFunds({ ...good, ...change }, stack.admin.metadata), grpc.status.INVALID_ARGUMENT, message);
    }
    await expectStatus(stack.client.withdrawFunds(good, alice.metadata), grpc.status.PERMISSION_DENIED);
    await expectStatus(stack.client.withdrawFunds({ ...good, userId: bob.userId }, alice.metadata), grpc.status.PERMISSION_DENIED);
    await expectStatus(stack.client.withdrawFunds(good), grpc.status.UNAUTHENTICATED);
    await expectStatus(stack.client.listLedgerEntries({ userId: alice.userId }, alice.metadata), grpc.status.PERMISSION_DENIED);
    // A non-admin learns nothing from validation: malformed requests are refused for the role first.
    await expectStatus(stack.client.withdrawFunds({ userId: 'x', asset: 'DOGE', amount: '-1', reference: '' }, alice.metadata), grpc.status.PERMISSION_DENIED);
    await expectStatus(stack.client.listLedgerEntries({ userId: 'x', pageToken: '9'.repeat(10_000) }, alice.metadata), grpc.status.PERMISSION_DENIED);
    await expectStatus(stack.client.listLedgerEntries({ userId: alice.userId }), grpc.status.UNAUTHENTICATED);
    expect(await stack.balances(alice)).to.deep.equal({ USD: ['500', '300'] });
  });

  it('lists every deposit and withdrawal of a user, newest first, page by page, with who made it', async () => {
    const { entries, nextPageToken } = await stack.client.listLedgerEntries({ userId: alice.userId, pageSize: 1 }, stack.admin.metadata);
    expect(entries.map((e) => [e.kind, e.amount, e.adminId, e.balanceAfter])).to.deep.equal([[LEDGER_ENTRY_KIND_WITHDRAWAL, '200', stack.admin.userId, '500']]);
    const rest = await stack.client.listLedgerEntries({ userId: alice.userId, pageSize: 1, pageToken: nextPageToken }, stack.admin.metadata);
    expect(rest.entries.map((e) => [e.kind, e.amount, e.requestId, e.adminId, e.reference, e.balanceAfter])).to.deep.equal([
      [LEDGER_ENTRY_KIND_DEPOSIT, '1000', 'd-1', stack.admin.userId, '', '1000'],
    ]);
    expect(rest.nextPageToken).to.equal('');
    expect((await stack.client.listLedgerEntries({ userId: carol.userId }, stack.admin.metadata)).entries).to.deep.equal([]);
    for (const pageToken of HOSTILE_TOKENS) {
      await expectStatus(stack.client.listLedgerEntries({ userId: alice.userId, pageToken }, stack.admin.metadata), grpc.status.INVALID_ARGUMENT, /^page_token: /);
    }
    await expectStatus(stack.client.listLedgerEntries({ userId: alice.userId, pageSize: 1001 }, stack.admin.metadata), grpc.status.INVALID_ARGUMENT, /^page_size: /);
    await expectStatus(stack.client.listLedgerEntries({ userId: 'x' }, stack.admin.metadata), grpc.status.INVALID_ARGUMENT, /^user_id: /);
  });

  it('records a deposit\'s optional reference in the ledger; refuses a bad one naming it, crediting nothing', async () => {
    const deposit = { userId: carol.userId, asset: 'USD', amount: '3', reference: 'wire 2026-11-30/9' };
    await stack.client.addFunds(deposit, stack.admin.metadata);
    for (const [reference, message] of [['r'.repeat(129), /^reference: at most 128/], ['caf\u00e9', /^reference: only printable/]] as const) {
      await expectStatus(stack.client.addFunds({ ...deposit, reference }, stack.admin.metadata), grpc.status.INVALID_ARGUMENT, message);
    }
    await expectStatus(stack.client.addFunds(deposit, carol.metadata), grpc.status.PERMISSION_DENIED);
    const { entries } = await stack.client.listLedgerEntries({ userId: carol.userId }, stack.admin.metadata);
    expect(entries.map((e) => [e.kind, e.amount, e.adminId, e.reference, e.balanceAfter])).to.deep.equal([
      [LEDGER_ENTRY_KIND_DEPOSIT, '3', stack.admin.userId, 'wire 2026-11-30/9', '3'],
    ]);
    await stack.client.withdrawFunds({ ...deposit, reference: 'refund' }, stack.admin.metadata);
  });

  it('answers for a user it never credited as AddFunds and WithdrawFunds do: an empty ledger, nothing to withdraw', async () => {
    const unknown = randomUUID();
    expect(await stack.client.listLedgerEntries({ userId: unknown }, stack.admin.metadata)).to.deep.equal({ entries: [], nextPageToken: '' });
    const withdrawal = { userId: unknown, asset: 'USD', amount: '1', reference: 'probe' };
    await expectStatus(stack.client.withdrawFunds(withdrawal, stack.admin.metadata), grpc.status.FAILED_PRECONDITION, /^amount: 1 USD is more than the 0 available/);
    expect((await stack.client.listLedgerEntries({ userId: unknown }, stack.admin.metadata)).entries).to.deep.equal([]);
    // User ids are read as AddFunds reads them: upper case names the same user.
    const upper = await stack.client.listLedgerEntries({ userId: alice.userId.toUpperCase() }, stack.admin.metadata);
    expect(upper.entries).to.deep.equal((await stack.client.listLedgerEntries({ userId: alice.userId }, stack.admin.metadata)).entries);
    expect(upper.entries).to.not.deep.equal([]);
    await expectStatus(stack.client.listLedgerEntries({ userId: unknown }, bob.metadata), grpc.status.PERMISSION_DENIED);
  });

  it("shows each user only their own fills, with side and liquidity; the public sees trades without users", async () => {
    const sell = async (price: string, quantity: string) =>
      (await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price, quantity }, bob.metadata)).trades;
    const made = [...(await sell('100', '1')), ...(await sell('100', '1')), ...(await sell('100', '0.5'))];
    expect(made).to.have.length(3);
    const bobs = await stack.client.listTrades({}, bob.metadata);
    // No fees on these markets: each side's fee is 0, in the asset it received.
    expect(bobs.fills.map((f) => [f.tradeId, f.side, f.liquidity, f.price, f.quantity, f.fee, f.feeAsset])).to.deep.equal(
      [...made].reverse().map((t) => [t.tradeId, SIDE_SELL, LIQUIDITY_TAKER, '100', t.quantity, '0', 'USD']),
    );
    const alices = await stack.client.listTrades({ pageSize: 2 }, alice.metadata);
    expect(alices.fills.map((f) => [f.tradeId, f.side, f.liquidity, f.quoteAmount, f.feeAsset])).to.deep.equal([
      [made[2]!.tradeId, SIDE_BUY, LIQUIDITY_MAKER, '50', 'BTC'],
      [made[1]!.tradeId, SIDE_BUY, LIQUIDITY_MAKER, '100', 'BTC'],
    ]);
    const next = await stack.client.listTrades({ pageSize: 2, pageToken: alices.nextPageToken }, alice.metadata);
    expect(next.fills.map((f) => f.tradeId)).to.deep.equal([made[0]!.tradeId]);
    expect(next.nextPageToken).to.equal('');
    expect((await stack.client.listTrades({}, carol.metadata)).fills).to.deep.equal([]);
    expect((await stack.client.listTrades({ market: 'ETH-USD' }, alice.metadata)).fills).to.deep.equal([]);
    const at = made[1]!.executedAtUnixMs;
    expect((await stack.client.listTrades({ endTimeUnixMs: at }, alice.metadata)).fills.every((f) => f.executedAtUnixMs < at)).to.equal(true);
    expect((await stack.client.listTrades({ startTimeUnixMs: at }, alice.metadata)).fills.every((f) => f.executedAtUnixMs >= at)).to.equal(true);

    const { trades } = await stack.client.getRecentTrades({ market: 'BTC-USD' });
    expect(trades.map((t) => t.tradeId)).to.deep.equal([...made].reverse().map((t) => t.tradeId));
    expect(Object.keys(matching.PublicTrade.toJSON(trades[0]!) as object).sort()).to.deep.equal(
      ['executedAtUnixMs', 'market', 'price', 'quantity', 'quoteAmount', 'sequence', 'takerSide', 'tradeId'],
    );
    expect((await stack.client.getRecentTrades({ market: 'BTC-USD', limit: 1 })).trades).to.have.length(1);
  });

  it('refuses bad ListTrades and GetRecentTrades requests naming the field', async () => {
    for (const pageToken of HOSTILE_TOKENS) {
      await expectStatus(stack.client.listTrades({ pageToken }, alice.metadata), grpc.status.INVALID_ARGUMENT, /^page_token: not a next_page_token from a previous ListTrades response/);
    }
    await expectStatus(stack.client.listTrades({ market: 'DOGE-USD' }, alice.metadata), grpc.status.INVALID_ARGUMENT, /^market: /);
    await expectStatus(stack.client.listTrades({ startTimeUnixMs: -1n }, alice.metadata), grpc.status.INVALID_ARGUMENT, /^start_time_unix_ms: /);
    await expectStatus(stack.client.listTrades({ endTimeUnixMs: 2n ** 62n }, alice.metadata), grpc.status.INVALID_ARGUMENT, /^end_time_unix_ms: /);
    await expectStatus(stack.client.listTrades({ startTimeUnixMs: 5n, endTimeUnixMs: 5n }, alice.metadata), grpc.status.INVALID_ARGUMENT, /^end_time_unix_ms: must be after/);
    await expectStatus(stack.client.listTrades({ startTimeUnixMs: 10n, endTimeUnixMs: 5n }, alice.metadata), grpc.status.INVALID_ARGUMENT, /^end_time_unix_ms: must be after/);
    await expectStatus(stack.client.listTrades({ endTimeUnixMs: -1n }, alice.metadata), grpc.status.INVALID_ARGUMENT, /^end_time_unix_ms: /);
    await expectStatus(stack.client.listTrades({ startTimeUnixMs: 2n ** 63n - 1n }, alice.metadata), grpc.status.INVALID_ARGUMENT, /^start_time_unix_ms: /);
    await expectStatus(stack.client.listTrades({}), grpc.status.UNAUTHENTICATED);
    await expectStatus(stack.client.getRecentTrades({ market: '' }), grpc.status.INVALID_ARGUMENT, /^market: /);
    await expectStatus(stack.client.getRecentTrades({ market: 'BTC-USD', limit: 1001 }), grpc.status.INVALID_ARGUMENT, /^limit: /);
  });

  it('gives the ticker and candles of a market, publicly', async () => {
    await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '120', quantity: '1' }, bob.metadata);
    const ticker = await stack.client.getTicker({ market: 'BTC-USD' });
    expect(ticker).to.include({ market: 'BTC-USD', lastPrice: '100', bestBid: '100', bestAsk: '120', open: '100', high: '100', low: '100', volume: '2.5', quoteVolume: '250' });
    expect(ticker.tradeCount).to.equal(3n);
    expect(ticker.windowEndUnixMs - ticker.windowStartUnixMs).to.equal(24n * 3_600_000n);
    expect(await stack.client.getTicker({ market: 'ETH-USD' })).to.include({ lastPrice: '', open: '', volume: '0', lastTradeAtUnixMs: 0n });
    const { candles } = await stack.client.listCandles({ market: 'BTC-USD', interval: matching.CandleInterval.CANDLE_INTERVAL_ONE_HOUR });
    expect(candles.reduce((n, c) => n + c.tradeCount, 0n)).to.equal(3n);
    expect(candles[0]!.startUnixMs % 3_600_000n).to.equal(0n);
    await expectStatus(stack.client.listCandles({ market: 'BTC-USD' }), grpc.status.INVALID_ARGUMENT, /^interval: required/);
    await expectStatus(stack.client.listCandles({ market: 'BTC-USD', interval: 99 as matching.CandleInterval }), grpc.status.INVALID_ARGUMENT, /^interval: unknown/);
    await expectStatus(stack.client.listCandles({ market: 'BTC-USD', interval: 1, limit: 1441 }), grpc.status.INVALID_ARGUMENT, /^limit: /);
    for (const market of ['', 'btc-usd', 'DOGE-USD', 'X'.repeat(10_000)]) {
      const error = await expectStatus(stack.client.getTicker({ market }), grpc.status.INVALID_ARGUMENT, /^market: /);
      expect(error.details.length, 'the message does not echo 10,000 characters').to.be.below(300);
      await expectStatus(stack.client.listCandles({ market, interval: 1 }), grpc.status.INVALID_ARGUMENT, /^market: /);
      await expectStatus(stack.client.getRecentTrades({ market }), grpc.status.INVALID_ARGUMENT, /^market: /);
    }
  });

  it('keeps history, the ledger and the ticker across a restart (the final snapshot of a graceful stop)', async () => {
    const before = {
      fills: await stack.client.listTrades({}, alice.metadata),
      ledger: await stack.client.listLedgerEntries({ userId: alice.userId }, stack.admin.metadata),
      recent: await stack.client.getRecentTrades({ market: 'BTC-USD' }),
      ticker: await stack.client.getTicker({ market: 'BTC-USD' }),
    };
    await stack.restartMatching();
    expect(await stack.client.listTrades({}, alice.metadata)).to.deep.equal(before.fills);
    expect(await stack.client.listLedgerEntries({ userId: alice.userId }, stack.admin.metadata)).to.deep.equal(before.ledger);
    expect(await stack.client.getRecentTrades({ market: 'BTC-USD' })).to.deep.equal(before.recent);
    const ticker = await stack.client.getTicker({ market: 'BTC-USD' });
    expect({ ...ticker, windowStartUnixMs: 0n, windowEndUnixMs: 0n }).to.deep.equal({ ...before.ticker, windowStartUnixMs: 0n, windowEndUnixMs: 0n });
    // The retry window of withdrawals came back from the ledger: w-1 still debits nothing.
    const retry = await stack.client.withdrawFunds({ userId: alice.userId, asset: 'USD', amount: '200', requestId: 'w-1', reference: 'wire 2026-11-30/7' }, stack.admin.metadata);
    expect(retry.entry).to.deep.equal(before.ledger.entries[0]);
  });
});
