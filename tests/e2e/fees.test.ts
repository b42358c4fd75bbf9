import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { decodeStatusDetails, STATUS_DETAILS_KEY } from '@orderbook/client';
import { matching } from '@orderbook/proto';
import { expectStatus } from '@orderbook/test-support';
import { Session } from './support/session';
import { StreamReader } from './support/stream-reader';
import { TestStack, type Trader } from './support/test-stack';

const { SIDE_BUY, SIDE_SELL } = matching.Side;

/** BTC-USD: a maker rebate and every instrument rule; ETH-USD: fees on both sides; SOL-USD: neither. */
const MARKETS = {
  markets: [
    { symbol: 'BTC-USD', maker_fee_bps: -2, taker_fee_bps: 10, tick_size: '0.01', lot_size: '0.001', min_quantity: '0.01', min_notional: '10' },
    { symbol: 'ETH-USD', maker_fee_bps: 5, taker_fee_bps: 20 },
    { symbol: 'SOL-USD' },
  ],
};

/** The code, the reason and the field violation of a refusal. */
async function refusal(promise: Promise<unknown>): Promise<[string | undefined, string | undefined, string | undefined]> {
  const error = await expectStatus(promise, grpc.status.INVALID_ARGUMENT);
  const details = decodeStatusDetails(error.metadata.get(STATUS_DETAILS_KEY)[0] as Buffer);
  return [details.reason, details.fieldViolations[0]?.field, details.fieldViolations[0]?.description];
}

/** Fees, instrument rules and markets from a file, through real gRPC servers. */
describe('markets from MATCHING_MARKETS_FILE: fees and instrument rules', () => {
  let stack: TestStack;
  let configDir: string;
  let marketsFile: string;
  let maker: Trader;
  let taker: Trader;

  before(async () => {
    configDir = await mkdtemp(join(tmpdir(), 'orderbook-money-'));
    marketsFile = join(configDir, 'markets.json');
    await writeFile(marketsFile, JSON.stringify(MARKETS));
    stack = await TestStack.start({ matchingEnv: { MATCHING_MARKETS_FILE: marketsFile } });
    maker = await stack.newTrader('maker');
    taker = await stack.newTrader('taker');
    for (const trader of [maker, taker]) {
      await stack.fund(trader, 'USD', '100000');
      await stack.fund(trader, 'BTC', '100');
      await stack.fund(trader, 'ETH', '100');
    }
  });
  after(async () => {
    await stack.stop();
    await rm(configDir, { recursive: true, force: true });
  });

  it('ListMarkets shows each market’s fees and rules', async () => {
    const { markets } = await stack.client.listMarkets();
    expect(markets.map((m) => [m.symbol, m.makerFeeBps, m.takerFeeBps, m.tickSize, m.lotSize, m.minQuantity, m.minNotional])).to.deep.equal([
      ['BTC-USD', -2, 10, '0.01', '0.001', '0.01', '10'],
      ['ETH-USD', 5, 20, '0.000001', '0.00000001', '0.00000001', '0'],
      ['SOL-USD', 0, 0, '0.000001', '0.00000001', '0.00000001', '0'],
    ]);
  });

  it('refuses limit, market and amended orders that break a rule, naming it, and changes nothing', async () => {
    const before = await stack.balances(taker);
    const limit = (price: string, quantity: string) =>
      stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price, quantity }, taker.metadata);
    expect(await refusal(limit('100.005', '1'))).to.deep.equal(['INVALID_FIELD', 'price', 'not a multiple of the tick size 0.01']);
    expect(await refusal(limit('100', '1.0001'))).to.deep.equal(['INVALID_FIELD', 'quantity', 'not a multiple of the lot size 0.001']);
    expect(await refusal(limit('100', '0.005'))).to.deep.equal(['INVALID_FIELD', 'quantity', 'below the minimum quantity 0.01']);
    expect(await refusal(limit('100', '0.09'))).to.deep.equal(['INVALID_FIELD', 'quantity', "the order's value 9 USD is below the minimum notional 10 USD"]);
    expect(await refusal(stack.client.placeMarketOrder({ market: 'BTC-USD', side: SIDE_SELL, quantity: '0.0005' }, taker.metadata))).to.deep.equal([
      'INVALID_FIELD', 'quantity', 'not a multiple of the lot size 0.001',
    ]);
    const { order } = await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '50', quantity: '1' }, taker.metadata);
    expect(await refusal(stack.client.amendOrder({ orderId: order!.orderId, price: '50.001' }, taker.metadata))).to.deep.equal([
      'INVALID_FIELD', 'price', 'not a multiple of the tick size 0.01',
    ]);
    expect(await refusal(stack.client.amendOrder({ orderId: order!.orderId, quantity: '0.1' }, taker.metadata))).to.deep.equal([
      'INVALID_FIELD', 'quantity', "the order's value 5 USD is below the minimum notional 10 USD",
    ]);
    await stack.client.cancelOrder({ orderId: order!.orderId }, taker.metadata);
    expect(await stack.balances(taker)).to.deep.equal(before);
  });

  it('refuses a stop price off the tick and a pair whose stop order is under the minimum notional, naming the field, and changes nothing', async () => {
    const before = await stack.balances(taker);
    const offTick = ['INVALID_FIELD', 'stop_price', 'not a multiple of the tick size 0.01'];
    const { client } = stack;
    expect(await refusal(client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '100', quantity: '1', stopPrice: '100.005' }, taker.metadata))).to.deep.equal(offTick);
    expect(await refusal(client.placeMarketOrder({ market: 'BTC-USD', side: SIDE_SELL, quantity: '1', stopPrice: '90.005' }, taker.metadata))).to.deep.equal(offTick);
    const pair = { market: 'BTC-USD', side: SIDE_SELL, quantity: '1', price: '120', stopPrice: '90.005' };
    expect(await refusal(client.placeOcoOrder(pair, taker.metadata))).to.deep.equal(offTick);
    expect(await refusal(client.placeMarketOrder({ market: 'BTC-USD', side: SIDE_SELL, quantity: '0.1', stopPrice: '1' }, taker.metadata))).to.deep.equal([
      'INVALID_FIELD', 'quantity', "the order's value 0.1 USD is below the minimum notional 10 USD",
    ]);
    expect(await refusal(client.placeOcoOrder({ ...pair, quantity: '0.1', stopPrice: '1' }, taker.metadata))).to.deep.equal([
      'INVALID_FIELD', 'stop_price', "the stop order's value 0.1 USD is below the minimum notional 10 USD",
    ]);
    expect(await refusal(client.placeOcoOrder({ ...pair, quantity: '0.1', stopPrice: '2', stopLimitPrice: '1' }, taker.metadata))).to.deep.equal([
      'INVALID_FIELD', 'stop_limit_price', "the stop order's value 0.1 USD is below the minimum notional 10 USD",
    ]);
    expect(await stack.balances(taker)).to.deep.equal(before);
  });

  it('charges each side in the asset it receives, shows each its own fee only, and StreamTrades none', async () => {
    const trades = new StreamReader(stack.client.raw.streamTrades({ market: 'ETH-USD' }));
    const makerUpdates = new StreamReader(stack.client.raw.streamOrderUpdates({ market: 'ETH-USD' }, maker.metadata));
    // Subscribed once each stream has delivered a first event of its own.
    const { order: probe } = await stack.client.placeLimitOrder({ market: 'ETH-USD', side: SIDE_BUY, price: '1', quantity: '1' }, maker.metadata);
    await makerUpdates.until((m) => m.some((u) => u.order?.orderId === probe!.orderId));
    const { order: resting } = await stack.client.placeLimitOrder({ market: 'ETH-USD', side: SIDE_SELL, price: '2000', quantity: '1' }, maker.metadata);
    const placed = await stack.client.placeLimitOrder({ market: 'ETH-USD', side: SIDE_BUY, price: '2000', quantity: '1' }, taker.metadata);
    // The taker received 1 ETH: 20 bps of it; the maker 2000 USD: 5 bps of it.
    expect(placed.trades).to.have.length(1);
    expect(placed.trades[0]).to.include({ takerFee: '0.002', takerFeeAsset: 'ETH', makerFee: '', makerFeeAsset: '' });
    expect(placed.order).to.include({ feesPaid: '0.002', feeAsset: 'ETH', lockedAmount: '0' });
    const published = await trades.until((m) => m.length >= 1);
    expect(published[0]!.trade).to.include({ makerFee: '', makerFeeAsset: '', takerFee: '', takerFeeAsset: '', tradeId: placed.trades[0]!.tradeId });
    const updates = await makerUpdates.until((m) => m.some((u) => u.order?.orderId === resting!.orderId && u.trade !== undefined));
    const fill = updates.find((u) => u.order?.orderId === resting!.orderId && u.trade !== undefined)!;
    expect(fill.trade).to.include({ makerFee: '1', makerFeeAsset: 'USD', takerFee: '', takerFeeAsset: '' });
    expect(fill.order).to.include({ feesPaid: '1', feeAsset: 'USD' });
    trades.cancel();
    makerUpdates.cancel();
    expect((await stack.balances(taker)).ETH).to.deep.equal(['100.998', '0']);
    expect((await stack.balances(maker)).USD).to.deep.equal(['101998', '1']);
    await stack.client.cancelOrder({ orderId: probe!.orderId }, maker.metadata);
  });

  it('admins read the fee account (GetFeeBalances) and fund rebates with AddFunds; traders cannot read it', async () => {
    const fees = await stack.client.getFeeBalances(stack.admin.metadata);
    expect(fees.accountId).to.equal('exchange:fees');
    expect(Object.fromEntries(fees.balances.map((b) => [b.asset, b.available]))).to.deep.equal({ BTC: '0', ETH: '0.002', SOL: '0', USD: '1' });
    await expectStatus(stack.client.getFeeBalances(taker.metadata), grpc.status.PERMISSION_DENIED);
    await stack.client.addFunds({ userId: 'exchange:fees', asset: 'USD', amount: '0.01' }, stack.admin.metadata);
    // BTC-USD: the maker's 2 bps rebate on 100 USD is 0.02; the fee account holds 1.01 USD.
    const { order } = await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '100', quantity: '1' }, maker.metadata);
    await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '100', quantity: '1' }, taker.metadata);
    const { order: filled } = await stack.client.getOrder({ orderId: order!.orderId }, maker.metadata);
    expect(filled).to.include({ feesPaid: '-0.02', feeAsset: 'USD' });
    const after = Object.fromEntries((await stack.client.getFeeBalances(stack.admin.metadata)).balances.map((b) => [b.asset, b.available]));
    expect(after).to.deep.include({ USD: '0.99', BTC: '0.001' });
    // Collected fees are paid out like any balance (WithdrawFunds names the fee account the same way).
    await stack.client.withdrawFunds({ userId: 'exchange:fees', asset: 'USD', amount: '0.5', reference: 'fees to treasury' }, stack.admin.metadata);
    const paidOut = Object.fromEntries((await stack.client.getFeeBalances(stack.admin.metadata)).balances.map((b) => [b.asset, b.available]));
    expect(paidOut).to.deep.include({ USD: '0.49' });
    const ledger = await stack.client.listLedgerEntries({ userId: 'exchange:fees' }, stack.admin.metadata);
    expect(ledger.entries.map((e) => [e.kind, e.asset, e.amount, e.reference, e.balanceAfter])).to.deep.equal([
      [matching.LedgerEntryKind.LEDGER_ENTRY_KIND_WITHDRAWAL, 'USD', '0.5', 'fees to treasury', '0.49'],
      [matching.LedgerEntryKind.LEDGER_ENTRY_KIND_DEPOSIT, 'USD', '0.01', '', '1.01'],
    ]);
    expect((await refusal(stack.client.listLedgerEntries({ userId: 'exchange:other' }, stack.admin.metadata)))[1]).to.equal('user_id');
    expect((await refusal(stack.client.withdrawFunds({ userId: 'exchange:other', asset: 'USD', amount: '1', reference: 'x' }, stack.admin.metadata)))[1]).to.equal('user_id');
    // Only the fee account's own id is let through besides users' UUIDs.
    expect((await refusal(stack.client.addFunds({ userId: 'exchange:other', asset: 'USD', amount: '1' }, stack.admin.metadata)))[1]).to.equal('user_id');
  });

  it('OrderSession answers with the caller’s own fee, and refuses a rule breach naming it', async () => {
    await stack.client.placeLimitOrder({ market: 'ETH-USD', side: SIDE_BUY, price: '1000', quantity: '2' }, maker.metadata);
    const session = new Session(stack.client.raw, taker.metadata);
    const sold = await session.request({ requestId: 1n, placeMarketOrder: { market: 'ETH-USD', side: SIDE_SELL, quantity: '1' } });
    // The taker sold: 20 bps of the 1000 USD it received.
    expect(sold.placeMarketOrder!.trades.map((t) => [t.takerFee, t.takerFeeAsset, t.makerFee])).to.deep.equal([['2', 'USD', '']]);
    expect(sold.placeMarketOrder!.order).to.include({ feesPaid: '2', feeAsset: 'USD' });
    const refused = await session.request({ requestId: 2n, placeLimitOrder: { market: 'BTC-USD', side: SIDE_BUY, price: '10.001', quantity: '1' } });
    expect([grpc.status[refused.error!.code], refused.error!.message]).to.deep.equal(['INVALID_ARGUMENT', 'price: not a multiple of the tick size 0.01']);
    expect(grpc.status[(await session.end()).code]).to.equal('OK');
  });

  it('refuses to start when a market’s fees or rules changed for the data directory, naming them; starts again when restored', async () => {
    stack.client.close();
    await stack.matching.stop();
    const changed = { markets: [{ ...MARKETS.markets[0], taker_fee_bps: 11 }, ...MARKETS.markets.slice(1)] };
    await writeFile(marketsFile, JSON.stringify(changed));
    let refusedWith: unknown;
    try {
      await stack.startMatching();
    } catch (err) {
      refusedWith = err;
    }
    expect(String(refusedWith)).to.match(/MarketRulesError: market BTC-USD: taker_fee_bps is 11, but the data directory .* was traded with 10; replaying its journal under other fees or rules would change acknowledged trades/);
    // A new market is welcome; the recorded ones unchanged.
    await writeFile(marketsFile, JSON.stringify({ markets: [...MARKETS.markets, { symbol: 'ADA-USD', tick_size: '0.0001' }] }));
    await stack.startMatching();
    expect((await stack.client.listMarkets()).markets.map((m) => m.symbol)).to.deep.equal(['ADA-USD', 'BTC-USD', 'ETH-USD', 'SOL-USD']);
    expect((await stack.balances(maker)).USD).to.deep.equal(['100099.02', '1000']);
  });
});
