import { expect } from 'chai';
import { Engine, type EngineConfig, FEE_ACCOUNT_ID } from '../src/index';
import { feeOf } from '../src/settlement';
import { concatParts, frameSections, readSections, SnapshotInvalidError } from '../src/snapshot';
import { accepted, amt, Harness, placed, px, qty, rejected } from './harness';

/** BTC-USD: maker 10 bps, taker 20 bps; ETH-USD: a maker rebate of 5 bps, taker 10 bps; SOL-USD free. */
const FEES: EngineConfig = {
  markets: [
    { symbol: 'BTC-USD', base: 'BTC', quote: 'USD', makerFeeBps: 10, takerFeeBps: 20 },
    { symbol: 'ETH-USD', base: 'ETH', quote: 'USD', makerFeeBps: -5, takerFeeBps: 10 },
    { symbol: 'SOL-USD', base: 'SOL', quote: 'USD' },
  ],
  closedOrdersRetainedPerUser: 100,
};

function funded(config: EngineConfig = FEES): Harness {
  const h = new Harness(config);
  for (const user of ['M', 'T']) {
    for (const { base } of config.markets) accepted(h.deposit(user, base, '100'));
    accepted(h.deposit(user, 'USD', '100000'));
  }
  return h;
}

describe('fees: the rule ceil(received × bps / 10^4)', () => {
  it('rounds a fee up and a rebate down in size, exactly up to 2^53-1', () => {
    expect(feeOf(10_000, 20)).to.equal(20);
    expect(feeOf(10_001, 20)).to.equal(21); // 20.002 → 21: in the exchange's favour
    expect(feeOf(1, 1)).to.equal(1);
    expect(feeOf(0, 1000)).to.equal(0);
    expect(feeOf(10_001, -5)).to.equal(-5); // -5.0005 → -5
    expect(feeOf(9_999, -5)).to.equal(-4); // -4.9995 → -4
    const max = Number.MAX_SAFE_INTEGER;
    expect(BigInt(feeOf(max, 1000))).to.equal((BigInt(max) * 1000n + 9_999n) / 10_000n);
    expect(BigInt(feeOf(max, -999))).to.equal(-((BigInt(max) * 999n) / 10_000n));
  });
});

describe('fees: charged on fills, in the asset each side receives', () => {
  it('a taker buy pays its fee in base, the maker (seller) in quote; the fee account gets both', () => {
    const h = funded();
    placed(h.limit('M', 'BTC-USD', 'sell', '100', '2'));
    const r = placed(h.limit('T', 'BTC-USD', 'buy', '100', '1'));
    expect(r.trades).to.have.length(1);
    // Taker receives 1 BTC: fee 20 bps = 0.002 BTC. Maker receives 100 USD: fee 10 bps = 0.1 USD.
    expect(r.trades[0]).to.include({ takerFee: qty('0.002'), makerFee: amt('0.1'), quoteAmount: amt('100') });
    expect(h.balance('T', 'BTC')).to.deep.equal({ available: qty('100.998'), locked: 0n });
    expect(h.balance('T', 'USD')).to.deep.equal({ available: amt('99900'), locked: 0n });
    expect(h.balance('M', 'USD')).to.deep.equal({ available: amt('100099.9'), locked: 0n });
    expect(h.balance(FEE_ACCOUNT_ID, 'BTC')).to.deep.equal({ available: qty('0.002'), locked: 0n });
    expect(h.balance(FEE_ACCOUNT_ID, 'USD')).to.deep.equal({ available: amt('0.1'), locked: 0n });
    expect(r.order.feesPaid).to.equal(qty('0.002'));
    expect(h.engine.getOrder('M', 1)!.feesPaid).to.equal(amt('0.1'));
    // The balance events include the fee account's.
    const feeEvents = r.events.filter((e) => e.type === 'balance' && e.userId === FEE_ACCOUNT_ID);
    expect(feeEvents).to.have.length(2);
  });

  it('a buyer paying its fee in base keeps its lock in quote exactly: locked == what open orders reserve', () => {
    const h = funded();
    placed(h.limit('M', 'BTC-USD', 'sell', '99', '1'));
    const r = placed(h.limit('T', 'BTC-USD', 'buy', '100', '3'));
    // 1 filled at 99 (price improvement stays locked until the order closes), 2 rest at 100.
    expect(r.order.locked).to.equal(amt('300') - amt('99'));
    expect(h.balance('T', 'USD')).to.deep.equal({ available: amt('100000') - amt('300'), locked: amt('201') });
    accepted(h.cancel('T', r.order.orderId));
    expect(h.balance('T', 'USD')).to.deep.equal({ available: amt('100000') - amt('99'), locked: 0n });
  });

  it('a market buy locks exactly its cost and pays its fee out of the base it receives', () => {
    const h = funded();
    placed(h.limit('M', 'BTC-USD', 'sell', '100', '1'));
    const r = placed(h.market('T', 'BTC-USD', 'buy', '1'));
    expect(r.order).to.include({ status: 'filled', locked: 0n, feesPaid: qty('0.002') });
    expect(h.balance('T', 'USD').available).to.equal(amt('99900'));
  });

  it('a taker sell pays in quote; a maker buy in base', () => {
    const h = funded();
    placed(h.limit('M', 'BTC-USD', 'buy', '100', '1'));
    const r = placed(h.limit('T', 'BTC-USD', 'sell', '100', '1'));
    expect(r.trades[0]).to.include({ takerFee: amt('0.2'), makerFee: qty('0.001') });
    expect(h.balance('T', 'USD').available).to.equal(amt('100099.8'));
    expect(h.balance('M', 'BTC').available).to.equal(qty('100.999'));
  });

  it('a market without fees never touches the fee account', () => {
    const h = funded();
    placed(h.limit('M', 'SOL-USD', 'sell', '10', '1'));
    const r = placed(h.limit('T', 'SOL-USD', 'buy', '10', '1'));
    expect(r.trades[0]).to.include({ takerFee: 0n, makerFee: 0n });
    expect(h.engine.balances(FEE_ACCOUNT_ID).every((b) => b.available === 0n && b.locked === 0n)).to.equal(true);
    expect(r.events.some((e) => e.type === 'balance' && e.userId === FEE_ACCOUNT_ID)).to.equal(false);
  });
});

describe('fees: maker rebates', () => {
  it('are paid from the fee account only as far as it holds the asset, so that no balance goes negative', () => {
    const h = funded();
    placed(h.limit('M', 'ETH-USD', 'sell', '100', '3'));
    // Nothing in the fee account's USD yet: the maker's 5 bps rebate on 100 USD (0.05) is not paid.
    const first = placed(h.limit('T', 'ETH-USD', 'buy', '100', '1'));
    expect(first.trades[0]).to.include({ makerFee: 0n, takerFee: qty('0.001') });
    expect(h.balance('M', 'USD').available).to.equal(amt('100100'));
    // Funded with 0.03 USD: the next rebate is 0.03, all there is.
    accepted(h.deposit(FEE_ACCOUNT_ID, 'USD', '0.03'));
    const second = placed(h.limit('T', 'ETH-USD', 'buy', '100', '1'));
    expect(second.trades[0]).to.include({ makerFee: -amt('0.03') });
    expect(h.balance(FEE_ACCOUNT_ID, 'USD').available).to.equal(0n);
    // Funded with plenty: the full 0.05.
    accepted(h.deposit(FEE_ACCOUNT_ID, 'USD', '10'));
    const third = placed(h.limit('T', 'ETH-USD', 'buy', '100', '1'));
    expect(third.trades[0]).to.include({ makerFee: -amt('0.05') });
    expect(h.balance('M', 'USD').available).to.equal(amt('100300.08'));
    expect(h.balance(FEE_ACCOUNT_ID, 'USD').available).to.equal(amt('9.95'));
    expect(h.engine.getOrder('M', 1)!.feesPaid).to.equal(-amt('0.08'));
  });

  it('are bounded by the taker fee rate, and fees by 10 %: other configurations are refused', () => {
    const market = { symbol: 'BTC-USD', base: 'BTC', quote: 'USD' };
    const make = (extra: object) => () => new Engine({ markets: [{ ...market, ...extra }], closedOrdersRetainedPerUser: 1 });
    expect(make({ makerFeeBps: -6, takerFeeBps: 5 })).to.throw(/maker_fee_bps/);
    expect(make({ makerFeeBps: -5, takerFeeBps: 5 })).not.to.throw();
    expect(make({ takerFeeBps: 1001 })).to.throw(/taker_fee_bps/);
    expect(make({ takerFeeBps: 1.5 })).to.throw(/taker_fee_bps/);
    expect(make({ makerFeeBps: 1001 })).to.throw(/maker_fee_bps/);
    expect(make({ tickSize: 0n })).to.throw(/tick_size/);
    expect(make({ lotSize: 2n ** 53n })).to.throw(/lot_size/);
    expect(make({ minQuantity: -1n })).to.throw(/min_quantity/);
    expect(make({ minNotional: -1n })).to.throw(/min_notional/);
  });

  it('the fee account never trades', () => {
    const h = funded();
    accepted(h.deposit(FEE_ACCOUNT_ID, 'USD', '10'));
    expect(rejected(h.limit(FEE_ACCOUNT_ID, 'BTC-USD', 'buy', '1', '1'))).to.include({ code: 'INVALID_ARGUMENT', field: 'user_id' });
    expect(rejected(h.market(FEE_ACCOUNT_ID, 'BTC-USD', 'buy', '1'))).to.include({ code: 'INVALID_ARGUMENT', field: 'user_id' });
  });
});

describe('fees: snapshots and retries', () => {
  it('a snapshot keeps order fees and the fees of retained placement trades; without fees its hash is as before', () => {
    const h = funded();
    placed(h.limit('M', 'BTC-USD', 'sell', '100', '2'));
    const r = placed(h.limit('T', 'BTC-USD', 'buy', '100', '1', { clientOrderId: 'k' }));
    const restored = Engine.restore(FEES, h.engine.snapshot());
    expect(restored.stateHash()).to.equal(h.engine.stateHash());
    expect(restored.getOrder('M', 1)!.feesPaid).to.equal(amt('0.1'));
    expect(readSections(h.engine.snapshot()).get('FEES')!.length).to.be.greaterThan(0);
    // A retry after the restore answers with the same trades, fees included.
    const seq = restored.lastSeq() + 1;
    const retry = restored.apply({
      kind: 'placeLimit', seq, timestamp: seq, orderId: 99, userId: 'T', market: 'BTC-USD', side: 'buy', price: px('100'), quantity: qty('1'),
      timeInForce: 'GTC', postOnly: false, selfTradePrevention: 'cancel_resting', clientOrderId: 'k',
    });
    expect(retry.ok && retry.value.kind === 'placed' && retry.value.trades).to.deep.equal(r.trades);

    const free = funded({ ...FEES, markets: [FEES.markets[2]!] });
    placed(free.limit('M', 'SOL-USD', 'sell', '10', '1'));
    placed(free.limit('T', 'SOL-USD', 'buy', '10', '1'));
    expect(readSections(free.engine.snapshot()).has('FEES')).to.equal(false);
  });
});

describe('fees: the FEES snapshot section', () => {
  function withFees(): Harness {
    const h = funded();
    placed(h.limit('M', 'BTC-USD', 'sell', '100', '2'));
    placed(h.limit('T', 'BTC-USD', 'buy', '100', '1', { clientOrderId: 'k' }));
    return h;
  }
  /** The snapshot with FEES replaced by `payload` (framed with sound checksums: only the content is wrong). */
  function withFeesPayload(bytes: Uint8Array, payload: Uint8Array): Uint8Array {
    return concatParts(frameSections([...readSections(bytes)].map(([tag, p]) => ({ tag, payload: tag === 'FEES' ? payload : p }))));
  }
  const refusal = (bytes: Uint8Array): string => {
    try {
      Engine.restore(FEES, bytes);
    } catch (err) {
      if (err instanceof SnapshotInvalidError) return err.message;
      throw err;
    }
    throw new Error('restored');
  };

  it('is documented as written: orders by id with their sums, then the retained trades with their fees', () => {
    const payload = readSections(withFees().engine.snapshot()).get('FEES')!;
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    // Orders 1 (maker: 0.1 USD) and 2 (taker: 0.002 BTC); trade 1 of the retained placement "k".
    expect([view.getUint32(0, true), view.getFloat64(4, true), view.getBigInt64(12, true), view.getFloat64(20, true), view.getBigInt64(28, true)]).to.deep.equal([
      2, 1, amt('0.1'), 2, qty('0.002'),
    ]);
    expect([view.getUint32(36, true), view.getFloat64(40, true), view.getBigInt64(48, true), view.getBigInt64(56, true)]).to.deep.equal([1, 1, amt('0.1'), qty('0.002')]);
    expect(payload.length).to.equal(64);
  });

  it('refuses fees of an unknown order, a zero sum, orders out of order and fees of a trade no placement kept', () => {
    const bytes = withFees().engine.snapshot();
    const payload = (orders: [number, bigint][], trades: [number, bigint, bigint][]): Uint8Array => {
      const out = new DataView(new ArrayBuffer(8 + orders.length * 16 + trades.length * 24));
      let at = 0;
      out.setUint32(at, orders.length, true);
      at += 4;
      for (const [id, fee] of orders) {
        out.setFloat64(at, id, true);
        out.setBigInt64(at + 8, fee, true);
        at += 16;
      }
      out.setUint32(at, trades.length, true);
      at += 4;
      for (const [id, maker, taker] of trades) {
        out.setFloat64(at, id, true);
        out.setBigInt64(at + 8, maker, true);
        out.setBigInt64(at + 16, taker, true);
        at += 24;
      }
      return new Uint8Array(out.buffer);
    };
    expect(refusal(withFeesPayload(bytes, payload([[9, 1n]], [])))).to.match(/FEES lists order 9/);
    expect(refusal(withFeesPayload(bytes, payload([[1, 0n]], [])))).to.match(/FEES lists order 1 .* with fees 0/);
    expect(refusal(withFeesPayload(bytes, payload([[2, 1n], [1, 1n]], [])))).to.match(/FEES lists order 1 \(after 2\)/);
    expect(refusal(withFeesPayload(bytes, payload([], [[7, 1n, 1n]])))).to.match(/FEES names trade 7 that no retained placement made/);
    expect(Engine.restore(FEES, withFeesPayload(bytes, payload([[1, 5n]], []))).getOrder('M', 1)!.feesPaid).to.equal(5n);
  });
});

/** BTC-USD with every rule: tick 0.01, lot 0.001, at least 0.01, worth at least 10 USD. */
const RULES: EngineConfig = {
  markets: [{ symbol: 'BTC-USD', base: 'BTC', quote: 'USD', tickSize: px('0.01'), lotSize: qty('0.001'), minQuantity: qty('0.01'), minNotional: amt('10') }],
  closedOrdersRetainedPerUser: 100,
};

describe('instrument rules: tick size, lot size, minimum quantity and notional', () => {
  function ruled(): Harness {
    const h = new Harness(RULES);
    accepted(h.deposit('M', 'BTC', '100'));
    accepted(h.deposit('T', 'USD', '1000000'));
    return h;
  }

  it('refuse a limit order breaking any of them, naming the rule', () => {
    const h = ruled();
    expect(rejected(h.limit('T', 'BTC-USD', 'buy', '100.005', '1'))).to.deep.equal({
      code: 'INVALID_ARGUMENT', field: 'price', message: 'price: not a multiple of the tick size 0.01',
    });
    expect(rejected(h.limit('T', 'BTC-USD', 'buy', '100', '1.0005'))).to.deep.equal({
      code: 'INVALID_ARGUMENT', field: 'quantity', message: 'quantity: not a multiple of the lot size 0.001',
    });
    expect(rejected(h.limit('T', 'BTC-USD', 'buy', '100', '0.009'))).to.deep.equal({
      code: 'INVALID_ARGUMENT', field: 'quantity', message: 'quantity: below the minimum quantity 0.01',
    });
    expect(rejected(h.limit('T', 'BTC-USD', 'buy', '100', '0.099'))).to.deep.equal({
      code: 'INVALID_ARGUMENT', field: 'quantity', message: "quantity: the order's value 9.9 USD is below the minimum notional 10 USD",
    });
    placed(h.limit('T', 'BTC-USD', 'buy', '100', '0.1'));
    expect(h.engine.lastSeq()).to.equal(7);
  });

  it('refuse a market order breaking them; its notional is what its fills would pay', () => {
    const h = ruled();
    placed(h.limit('M', 'BTC-USD', 'sell', '100', '1'));
    expect(rejected(h.market('T', 'BTC-USD', 'buy', '0.0105'))).to.include({ field: 'quantity', code: 'INVALID_ARGUMENT' });
    expect(rejected(h.market('T', 'BTC-USD', 'buy', '0.005')).message).to.equal('quantity: below the minimum quantity 0.01');
    expect(rejected(h.market('T', 'BTC-USD', 'buy', '0.05')).message).to.equal("quantity: the order's value 5 USD is below the minimum notional 10 USD");
    expect(placed(h.market('T', 'BTC-USD', 'buy', '0.1')).order.status).to.equal('filled');
  });

  it('refuse an amendment to a price or quantity that breaks them, and change nothing', () => {
    const h = ruled();
    const id = placed(h.limit('T', 'BTC-USD', 'buy', '100', '1')).order.orderId;
    const hash = h.engine.stateHash();
    expect(rejected(h.amend('T', id, { price: '99.999' })).field).to.equal('price');
    expect(rejected(h.amend('T', id, { quantity: '0.5005' })).field).to.equal('quantity');
    expect(rejected(h.amend('T', id, { price: '1', quantity: '1' })).message).to.match(/minimum notional 10 USD/);
    expect(h.engine.stateHash()).to.equal(hash);
    expect(accepted(h.amend('T', id, { price: '99.99', quantity: '0.5' })).value.kind).to.equal('amended');
  });

  it('refuse a stop price off the tick, for a stop-limit, a stop-market and a pair, as a price off it', () => {
    const h = ruled();
    accepted(h.deposit('T', 'BTC', '10'));
    const offTick = { code: 'INVALID_ARGUMENT', field: 'stop_price', message: 'stop_price: not a multiple of the tick size 0.01' };
    expect(rejected(h.stopLimit('T', 'BTC-USD', 'buy', '100.005', '100', '1'))).to.deep.equal(offTick);
    expect(rejected(h.stopMarket('T', 'BTC-USD', 'sell', '90.005', '1'))).to.deep.equal(offTick);
    expect(rejected(h.oco('T', 'BTC-USD', 'sell', '120', '90.005', '1'))).to.deep.equal(offTick);
    expect(rejected(h.oco('T', 'BTC-USD', 'sell', '120', '90', '1', '89.995'))).to.deep.equal({
      code: 'INVALID_ARGUMENT', field: 'stop_limit_price', message: 'stop_limit_price: not a multiple of the tick size 0.01',
    });
    expect(placed(h.stopMarket('T', 'BTC-USD', 'sell', '90.01', '1')).order.status).to.equal('untriggered');
  });

  it('refuse a pair whose stop order is worth less than the minimum notional, as the stop order alone would be', () => {
    const h = ruled();
    accepted(h.deposit('T', 'BTC', '10'));
    const alone = rejected(h.stopMarket('T', 'BTC-USD', 'sell', '1', '0.1'));
    expect(alone.message).to.equal("quantity: the order's value 0.1 USD is below the minimum notional 10 USD");
    // At its stop price for a stop-market leg, at its limit price for a stop-limit leg; naming the price that makes it so.
    expect(rejected(h.oco('T', 'BTC-USD', 'sell', '120', '1', '0.1'))).to.deep.equal({
      code: 'INVALID_ARGUMENT', field: 'stop_price', message: "stop_price: the stop order's value 0.1 USD is below the minimum notional 10 USD",
    });
    expect(rejected(h.oco('T', 'BTC-USD', 'sell', '120', '2', '0.1', '1'))).to.deep.equal({
      code: 'INVALID_ARGUMENT', field: 'stop_limit_price', message: "stop_limit_price: the stop order's value 0.1 USD is below the minimum notional 10 USD",
    });
    expect(rejected(h.oco('T', 'BTC-USD', 'buy', '100', '101', '0.1', '99.99'))).to.include({ field: 'stop_limit_price' });
    expect(accepted(h.oco('T', 'BTC-USD', 'sell', '120', '100', '0.1')).value.kind).to.equal('placedOco');
    expect(accepted(h.oco('T', 'BTC-USD', 'sell', '120', '101', '0.1', '100')).value.kind).to.equal('placedOco');
  });

  it('are not applied on markets that set none', () => {
    const h = new Harness();
    accepted(h.deposit('T', 'USD', '1'));
    placed(h.limit('T', 'BTC-USD', 'buy', '0.000001', '0.00000001'));
  });
});
