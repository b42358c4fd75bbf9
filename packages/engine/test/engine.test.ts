import { expect } from 'chai';
import { Engine, type Command, type EngineEvent, type TradeView } from '../src/index';
import { ORDER_BYTES, ORDER_LAYOUT, readSections } from '../src/snapshot';
import { accepted, amt, CONFIG, Harness, type LimitOptions, placed, px, qty, rejected } from './harness';

const tradeSummary = (t: TradeView) => ({ price: t.price, quantity: t.quantity, quoteAmount: t.quoteAmount, maker: t.makerOrderId });

/** The seed's worked example: asks 5@98 (A), 3@98 (B), 10@100 (C), 20@105 (D). */
function seedBook(): Harness {
  const h = new Harness();
  for (const user of ['A', 'B', 'C', 'D']) accepted(h.deposit(user, 'SOL', '100'));
  accepted(h.deposit('T', 'USD', '10000'));
  placed(h.limit('A', 'SOL-USD', 'sell', '98', '5'));
  placed(h.limit('B', 'SOL-USD', 'sell', '98', '3'));
  placed(h.limit('C', 'SOL-USD', 'sell', '100', '10'));
  placed(h.limit('D', 'SOL-USD', 'sell', '105', '20'));
  return h;
}

describe('engine: the seed examples', () => {
  it('market buy 15 sweeps 5@98, 3@98, 7@100 for 1,484 and leaves C with 3', () => {
    const h = seedBook();
    const r = placed(h.market('T', 'SOL-USD', 'buy', '15'));
    expect(r.trades.map(tradeSummary)).to.deep.equal([
      { price: px('98'), quantity: qty('5'), quoteAmount: amt('490'), maker: 1 },
      { price: px('98'), quantity: qty('3'), quoteAmount: amt('294'), maker: 2 },
      { price: px('100'), quantity: qty('7'), quoteAmount: amt('700'), maker: 3 },
    ]);
    expect(r.trades.reduce((a, t) => a + t.quoteAmount, 0n)).to.equal(amt('1484'));
    expect(r.order).to.include({ status: 'filled', filled: qty('15'), locked: 0n, type: 'market', price: undefined });
    expect(h.engine.depth('SOL-USD', 10)!.asks).to.deep.equal([
      { price: px('100'), quantity: qty('3'), orderCount: 1 },
      { price: px('105'), quantity: qty('20'), orderCount: 1 },
    ]);
    expect(h.engine.getOrder('C', 3)).to.include({ status: 'partially_filled', filled: qty('7'), locked: qty('3') });
    expect(h.balance('T', 'USD')).to.deep.equal({ available: amt('8516'), locked: 0n });
    expect(h.balance('T', 'SOL')).to.deep.equal({ available: qty('15'), locked: 0n });
    expect(h.balance('A', 'USD')).to.deep.equal({ available: amt('490'), locked: 0n });
    expect(h.balance('A', 'SOL')).to.deep.equal({ available: qty('95'), locked: 0n });
    expect(h.balance('C', 'SOL')).to.deep.equal({ available: qty('90'), locked: qty('3') });
  });

  it('market buy 10 against 2@98 is rejected: no trade, book and balances unchanged', () => {
    const h = new Harness();
    accepted(h.deposit('A', 'SOL', '2'));
    accepted(h.deposit('T', 'USD', '10000'));
    placed(h.limit('A', 'SOL-USD', 'sell', '98', '2'));
    const hash = h.engine.stateHash();
    const depth = h.engine.depth('SOL-USD', 10);
    const err = rejected(h.market('T', 'SOL-USD', 'buy', '10'));
    expect(err).to.deep.equal({ code: 'FAILED_PRECONDITION', field: 'quantity', message: 'quantity: insufficient liquidity for market order' });
    expect(h.engine.stateHash()).to.equal(hash);
    expect(h.engine.depth('SOL-USD', 10)).to.deep.equal(depth);
    expect(h.balance('T', 'USD')).to.deep.equal({ available: amt('10000'), locked: 0n });
    expect(h.engine.getOrder('T', 6)).to.equal(undefined);
  });

  it('emits, for the sweep, each fill for maker and taker, then coalesced levels and balances', () => {
    const h = seedBook();
    const before = h.engine.depth('SOL-USD', 1)!.bookSeq;
    const { events } = placed(h.market('T', 'SOL-USD', 'buy', '15'));
    const kinds = events.map((e) => (e.type === 'orderUpdated' ? `updated:${e.order.orderId}` : e.type));
    expect(kinds).to.deep.equal([
      'orderAccepted',
      'trade', 'updated:1', 'updated:5',
      'trade', 'updated:2', 'updated:5',
      'trade', 'updated:3', 'updated:5',
      'bookLevel', 'bookLevel',
      'balance', 'balance', 'balance', 'balance', 'balance', 'balance', 'balance', 'balance',
    ]);
    const levels = events.filter((e): e is Extract<EngineEvent, { type: 'bookLevel' }> => e.type === 'bookLevel');
    expect(levels.map(({ price, quantity, orderCount, bookSeq, side }) => ({ price, quantity, orderCount, bookSeq, side }))).to.deep.equal([
      { price: px('98'), quantity: 0n, orderCount: 0, bookSeq: before + 1, side: 'sell' },
      { price: px('100'), quantity: qty('3'), orderCount: 1, bookSeq: before + 2, side: 'sell' },
    ]);
    const updates = events.filter((e): e is Extract<EngineEvent, { type: 'orderUpdated' }> => e.type === 'orderUpdated');
    for (const u of updates) expect(u.trade).to.not.equal(undefined);
    expect(updates[0]!.order).to.include({ orderId: 1, status: 'filled', locked: 0n });
    expect(updates[5]!.order).to.include({ orderId: 5, status: 'filled', filled: qty('15') });
    const balances = events.flatMap((e) => (e.type === 'balance' ? [`${e.userId}:${e.balance.asset}`] : []));
    expect(balances).to.have.members(['T:USD', 'T:SOL', 'A:SOL', 'A:USD', 'B:SOL', 'B:USD', 'C:SOL', 'C:USD']);
    const tUsd = events.find((e) => e.type === 'balance' && e.userId === 'T' && e.balance.asset === 'USD');
    expect(tUsd).to.deep.include({ balance: { asset: 'USD', available: amt('8516'), locked: 0n } });
  });
});

describe('engine: limit orders and time in force', () => {
  it('GTC trades at the maker price, rests the rest, and refunds the price improvement when done', () => {
    const h = new Harness();
    accepted(h.deposit('S', 'BTC', '1'));
    accepted(h.deposit('B', 'USD', '1000'));
    placed(h.limit('S', 'BTC-USD', 'sell', '90', '0.5'));
    const r = placed(h.limit('B', 'BTC-USD', 'buy', '100', '1'));
    expect(r.trades.map(tradeSummary)).to.deep.equal([{ price: px('90'), quantity: qty('0.5'), quoteAmount: amt('45'), maker: 1 }]);
    expect(r.order).to.include({ status: 'partially_filled', filled: qty('0.5'), locked: amt('55') });
    expect(h.engine.depth('BTC-USD', 5)!.bids).to.deep.equal([{ price: px('100'), quantity: qty('0.5'), orderCount: 1 }]);
    expect(h.balance('B', 'USD')).to.deep.equal({ available: amt('900'), locked: amt('55') });
    // The rest fills at 100 against a new seller: the order closes with nothing left locked.
    accepted(h.deposit('S2', 'BTC', '1'));
    placed(h.limit('S2', 'BTC-USD', 'sell', '100', '0.5'));
    expect(h.balance('B', 'USD')).to.deep.equal({ available: amt('905'), locked: 0n });
    expect(h.balance('B', 'BTC')).to.deep.equal({ available: qty('1'), locked: 0n });
    expect(h.engine.getOrder('B', 2)).to.include({ status: 'filled', locked: 0n });
  });

  it('returns rounding dust to available when a buy closes', () => {
    const h = new Harness();
    accepted(h.deposit('S', 'BTC', '10'));
    accepted(h.deposit('B', 'USD', '10'));
    // 0.000003 × 3.33333333 = 9.99999999 × 10^-6 USD: locks ceil → 0.00001, each fill pays floor.
    placed(h.limit('S', 'BTC-USD', 'sell', '0.000003', '1.11111111'));
    placed(h.limit('S', 'BTC-USD', 'sell', '0.000003', '2.22222222'));
    const r = placed(h.limit('B', 'BTC-USD', 'buy', '0.000003', '3.33333333'));
    expect(r.order.locked).to.equal(0n);
    expect(r.trades.map((t) => t.quoteAmount)).to.deep.equal([333n, 666n]); // floor(3 × 111111111 / 10^6), floor(3 × 222222222 / 10^6)
    // Locked ceil(3 × 333333333 / 10^6) = 1000, paid 999: the 1 unit of dust is back.
    expect(h.balance('B', 'USD')).to.deep.equal({ available: amt('10') - 999n, locked: 0n });
    expect(h.balance('S', 'USD')).to.deep.equal({ available: 999n, locked: 0n });
  });

  it('a resting buy locks its value rounded up, and a fill moves updatedAt to the fill while createdAt stays', () => {
    const h = new Harness();
    accepted(h.deposit('S', 'BTC', '10'));
    accepted(h.deposit('B', 'USD', '10'));
    // 98.5 × 0.00000003 = 295.5 × 10^-8 USD: the lock is 296 units, not 295.
    const buy = placed(h.limit('B', 'BTC-USD', 'buy', '98.5', '0.00000003'));
    expect(buy.order.locked).to.equal(296n);
    expect(h.balance('B', 'USD')).to.deep.equal({ available: amt('10') - 296n, locked: 296n });
    const created = buy.order.createdAt;
    expect(buy.order.updatedAt).to.equal(created);
    const sell = placed(h.limit('S', 'BTC-USD', 'sell', '98.5', '0.00000001'));
    const maker = h.engine.getOrder('B', buy.order.orderId)!;
    expect(maker).to.include({ status: 'partially_filled', createdAt: created, updatedAt: sell.order.createdAt });
    expect(sell.order.updatedAt).to.equal(sell.order.createdAt);
    expect(sell.order.updatedAt).to.be.greaterThan(created);
  });

  it('IOC trades what it can now and cancels the rest (reason ioc), releasing its lock', () => {
    const h = new Harness();
    accepted(h.deposit('S', 'ETH', '5'));
    accepted(h.deposit('B', 'USD', '1000'));
    placed(h.limit('S', 'ETH-USD', 'sell', '10', '2'));
    const r = placed(h.limit('B', 'ETH-USD', 'buy', '11', '5', { timeInForce: 'IOC' }));
    expect(r.trades).to.have.length(1);
    expect(r.order).to.include({ status: 'cancelled', cancelReason: 'ioc', filled: qty('2'), locked: 0n });
    expect(h.engine.depth('ETH-USD', 5)).to.deep.include({ bids: [], asks: [] });
    expect(h.balance('B', 'USD')).to.deep.equal({ available: amt('980'), locked: 0n });
    const last = r.events.filter((e) => e.type === 'orderUpdated').at(-1);
    expect(last).to.deep.include({ trade: undefined });
    expect(last).to.have.nested.property('order.status', 'cancelled');
  });

  it('IOC with nothing to trade is accepted and cancelled at once', () => {
    const h = new Harness();
    accepted(h.deposit('B', 'USD', '1000'));
    const r = placed(h.limit('B', 'ETH-USD', 'buy', '11', '5', { timeInForce: 'IOC' }));
    expect(r.order).to.include({ status: 'cancelled', cancelReason: 'ioc', filled: 0n });
    expect(h.balance('B', 'USD')).to.deep.equal({ available: amt('1000'), locked: 0n });
  });

  it('FOK fills entirely or is rejected with nothing changed', () => {
    const h = new Harness();
    accepted(h.deposit('S', 'ETH', '5'));
    accepted(h.deposit('B', 'USD', '1000'));
    placed(h.limit('S', 'ETH-USD', 'sell', '10', '2'));
    placed(h.limit('S', 'ETH-USD', 'sell', '12', '2'));
    const hash = h.engine.stateHash();
    const err = rejected(h.limit('B', 'ETH-USD', 'buy', '11', '3', { timeInForce: 'FOK' })); // only 2 at or below 11
    expect(err).to.include({ code: 'FAILED_PRECONDITION', field: 'time_in_force' });
    expect(h.engine.stateHash()).to.equal(hash);
    const r = placed(h.limit('B', 'ETH-USD', 'buy', '12', '3', { timeInForce: 'FOK' }));
    expect(r.order).to.include({ status: 'filled', filled: qty('3'), locked: 0n });
    expect(r.trades.map((t) => t.price)).to.deep.equal([px('10'), px('12')]);
    expect(h.balance('B', 'USD')).to.deep.equal({ available: amt('1000') - amt('32'), locked: 0n });
  });

  it('post-only rests when it would not trade and is rejected when it would', () => {
    const h = new Harness();
    accepted(h.deposit('S', 'ETH', '5'));
    accepted(h.deposit('B', 'USD', '1000'));
    placed(h.limit('S', 'ETH-USD', 'sell', '10', '1'));
    const hash = h.engine.stateHash();
    expect(rejected(h.limit('B', 'ETH-USD', 'buy', '10', '1', { postOnly: true }))).to.deep.equal({
      code: 'FAILED_PRECONDITION', field: 'post_only', message: 'post_only: the order would trade on arrival',
    });
    expect(h.engine.stateHash()).to.equal(hash);
    const r = placed(h.limit('B', 'ETH-USD', 'buy', '9.99', '1', { postOnly: true }));
    expect(r.order).to.include({ status: 'open', postOnly: true });
    expect(rejected(h.limit('B', 'ETH-USD', 'buy', '9', '1', { postOnly: true, timeInForce: 'IOC' }))).to.include({
      code: 'INVALID_ARGUMENT', field: 'post_only',
    });
  });
});

describe('engine: the bound on a user\'s resting orders in a market', () => {
  it('refuses an order that may rest past the bound, until one leaves; IOC, FOK and market orders, other users and markets are apart; a restore keeps the count', () => {
    const h = new Harness({ ...CONFIG, maxOpenOrdersPerUserMarket: 2 });
    for (const user of ['ann', 'bob']) for (const asset of ['USD', 'SOL', 'BTC']) accepted(h.deposit(user, asset, '100000'));
    const first = placed(h.limit('ann', 'SOL-USD', 'buy', '50', '1')).order.orderId;
    placed(h.limit('ann', 'SOL-USD', 'sell', '150', '1', { timeInForce: 'GTD', expireAt: h.now() + 60_000 }));
    const balance = h.balance('ann', 'USD');
    const tooMany = { code: 'FAILED_PRECONDITION', field: 'market' };
    expect(rejected(h.limit('ann', 'SOL-USD', 'buy', '51', '1'))).to.include(tooMany);
    expect(rejected(h.oco('ann', 'SOL-USD', 'buy', '50', '104', '1'))).to.include(tooMany);
    // Counted at entry, as exchanges count open orders: even one that would fill at once.
    placed(h.limit('bob', 'SOL-USD', 'sell', '60', '1'));
    expect(rejected(h.limit('ann', 'SOL-USD', 'buy', '60', '1'))).to.include(tooMany);
    expect(h.balance('ann', 'USD')).to.deep.equal(balance);
    // Orders that never rest, a stop waiting off the book, another user, another market: not bounded here.
    expect(placed(h.limit('ann', 'SOL-USD', 'buy', '60', '1', { timeInForce: 'IOC' })).trades).to.have.length(1);
    placed(h.limit('ann', 'SOL-USD', 'buy', '1', '1', { timeInForce: 'IOC' }));
    placed(h.stopLimit('ann', 'SOL-USD', 'sell', '10', '9', '1'));
    placed(h.limit('bob', 'SOL-USD', 'buy', '40', '1'));
    placed(h.limit('ann', 'BTC-USD', 'buy', '40', '1'));
    expect(rejected(Engine.restore(h.config, h.engine.snapshot()).apply({ ...h.log.find((c) => c.kind === 'placeLimit' && c.userId === 'ann' && c.price === px('51'))!, seq: h.engine.lastSeq() + 1 }))).to.include(tooMany);
    // A cancel frees a place, and so does a fill.
    accepted(h.cancel('ann', first));
    placed(h.limit('ann', 'SOL-USD', 'buy', '45', '1'));
    expect(rejected(h.limit('ann', 'SOL-USD', 'buy', '44', '1'))).to.include(tooMany);
    placed(h.market('bob', 'SOL-USD', 'buy', '1'));
    placed(h.limit('ann', 'SOL-USD', 'buy', '44', '1'));
    expect(() => new Engine({ ...CONFIG, maxOpenOrdersPerUserMarket: -1 })).to.throw(/maxOpenOrdersPerUserMarket/);
  });
});

describe('engine: self-trade prevention', () => {
  function book() {
    const h = new Harness();
    accepted(h.deposit('U', 'BTC', '10'));
    accepted(h.deposit('U', 'USD', '10000'));
    accepted(h.deposit('V', 'BTC', '10'));
    placed(h.limit('U', 'BTC-USD', 'sell', '100', '1')); // order 1: the taker's own
    placed(h.limit('V', 'BTC-USD', 'sell', '100', '1')); // order 2
    return h;
  }

  it('cancel_resting (the default) cancels the own resting order and keeps matching', () => {
    const h = book();
    const r = placed(h.limit('U', 'BTC-USD', 'buy', '100', '1'));
    expect(r.trades.map((t) => t.makerOrderId)).to.deep.equal([2]);
    expect(r.order).to.include({ status: 'filled', selfTradePrevention: 'cancel_resting' });
    expect(h.engine.getOrder('U', 1)).to.include({ status: 'cancelled', cancelReason: 'self_trade', locked: 0n });
    expect(h.balance('U', 'BTC')).to.deep.equal({ available: qty('11'), locked: 0n });
    const firstUpdate = r.events.find((e) => e.type === 'orderUpdated');
    expect(firstUpdate).to.deep.include({ trade: undefined });
    expect(firstUpdate).to.have.nested.property('order.cancelReason', 'self_trade');
  });

  it('cancel_taker stops at the own order: the rest of the taker is cancelled, the resting order stays', () => {
    const h = book();
    const r = placed(h.limit('U', 'BTC-USD', 'buy', '100', '1', { selfTradePrevention: 'cancel_taker' }));
    expect(r.trades).to.deep.equal([]);
    expect(r.order).to.include({ status: 'cancelled', cancelReason: 'self_trade', locked: 0n });
    expect(h.engine.getOrder('U', 1)).to.include({ status: 'open' });
    expect(h.balance('U', 'USD')).to.deep.equal({ available: amt('10000'), locked: 0n });
  });

  it('cancel_both cancels the own resting order and the rest of the taker', () => {
    const h = book();
    const r = placed(h.limit('U', 'BTC-USD', 'buy', '100', '1', { selfTradePrevention: 'cancel_both' }));
    expect(r.trades).to.deep.equal([]);
    expect(r.order).to.include({ status: 'cancelled', cancelReason: 'self_trade' });
    expect(h.engine.getOrder('U', 1)).to.include({ status: 'cancelled', cancelReason: 'self_trade' });
    expect(h.engine.depth('BTC-USD', 5)!.asks).to.deep.equal([{ price: px('100'), quantity: qty('1'), orderCount: 1 }]);
  });

  it('FOK: the own resting order is not liquidity (it would be cancelled, not filled)', () => {
    const h = book();
    const hash = h.engine.stateHash();
    expect(rejected(h.limit('U', 'BTC-USD', 'buy', '100', '2', { timeInForce: 'FOK' }))).to.deep.equal({
      code: 'FAILED_PRECONDITION', field: 'time_in_force', message: 'time_in_force: FOK order cannot be filled completely now',
    });
    expect(h.engine.stateHash()).to.equal(hash);
    const r = placed(h.limit('U', 'BTC-USD', 'buy', '100', '1', { timeInForce: 'FOK' }));
    expect(r.trades.map((t) => [t.makerOrderId, t.quantity])).to.deep.equal([[2, qty('1')]]);
    expect(r.order).to.include({ status: 'filled', filled: qty('1') });
    expect(h.engine.getOrder('U', 1)).to.include({ status: 'cancelled', cancelReason: 'self_trade' });
  });

  it('market orders: own liquidity does not count, and cancel_taker rejects the whole order', () => {
    const h = book();
    const hash = h.engine.stateHash();
    expect(rejected(h.market('U', 'BTC-USD', 'buy', '2'))).to.include({ code: 'FAILED_PRECONDITION', field: 'quantity' });
    const selfTrade = {
      code: 'FAILED_PRECONDITION', field: 'self_trade_prevention', message: 'self_trade_prevention: the market order would trade with your own order',
    };
    expect(rejected(h.market('U', 'BTC-USD', 'buy', '1', { selfTradePrevention: 'cancel_taker' }))).to.deep.equal(selfTrade);
    expect(rejected(h.market('U', 'BTC-USD', 'buy', '1', { selfTradePrevention: 'cancel_both' }))).to.deep.equal(selfTrade);
    expect(h.engine.stateHash()).to.equal(hash);
    const r = placed(h.market('U', 'BTC-USD', 'buy', '1'));
    expect(r.trades.map((t) => t.makerOrderId)).to.deep.equal([2]);
    expect(h.engine.getOrder('U', 1)).to.include({ status: 'cancelled', cancelReason: 'self_trade' });
  });
});

describe('engine: market orders and funds', () => {
  it('a market buy needs the exact sum of its fills quote amounts', () => {
    const h = new Harness();
    accepted(h.deposit('S', 'SOL', '10'));
    placed(h.limit('S', 'SOL-USD', 'sell', '0.000003', '1.11111111')); // fill costs floor(333.33333) = 333 units
    placed(h.limit('S', 'SOL-USD', 'sell', '0.000003', '1.11111111'));
    accepted(h.send({ kind: 'deposit', userId: 'B', asset: 'USD', amount: 665n }));
    const hash = h.engine.stateHash();
    expect(rejected(h.market('B', 'SOL-USD', 'buy', '2.22222222'))).to.deep.equal({
      code: 'FAILED_PRECONDITION', message: 'insufficient USD: available 0.00000665, required 0.00000666',
    });
    expect(h.engine.stateHash()).to.equal(hash);
    accepted(h.send({ kind: 'deposit', userId: 'B', asset: 'USD', amount: 1n }));
    const r = placed(h.market('B', 'SOL-USD', 'buy', '2.22222222'));
    expect(r.trades.map((t) => t.quoteAmount)).to.deep.equal([333n, 333n]);
    expect(h.balance('B', 'USD')).to.deep.equal({ available: 0n, locked: 0n });
  });

  it('a market sell needs the base quantity available', () => {
    const h = new Harness();
    accepted(h.deposit('B', 'USD', '1000'));
    placed(h.limit('B', 'ETH-USD', 'buy', '10', '5'));
    accepted(h.deposit('S', 'ETH', '1'));
    expect(rejected(h.market('S', 'ETH-USD', 'sell', '2')).message).to.equal('insufficient ETH: available 1, required 2');
    const r = placed(h.market('S', 'ETH-USD', 'sell', '1'));
    expect(r.order).to.include({ status: 'filled', side: 'sell', timeInForce: 'FOK' });
    expect(h.balance('S', 'USD')).to.deep.equal({ available: amt('10'), locked: 0n });
  });

  it('a limit order needs its whole lock available', () => {
    const h = new Harness();
    accepted(h.deposit('B', 'USD', '99.99'));
    expect(rejected(h.limit('B', 'BTC-USD', 'buy', '100', '1'))).to.deep.equal({
      code: 'FAILED_PRECONDITION', message: 'insufficient USD: available 99.99, required 100',
    });
    expect(rejected(h.limit('N', 'BTC-USD', 'sell', '100', '1')).message).to.equal('insufficient BTC: available 0, required 1');
  });

  it('shares a user’s quote balance between markets', () => {
    const h = new Harness();
    accepted(h.deposit('B', 'USD', '100'));
    placed(h.limit('B', 'BTC-USD', 'buy', '60', '1'));
    expect(rejected(h.limit('B', 'ETH-USD', 'buy', '50', '1')).message).to.equal('insufficient USD: available 40, required 50');
    placed(h.limit('B', 'ETH-USD', 'buy', '40', '1'));
    expect(h.balance('B', 'USD')).to.deep.equal({ available: 0n, locked: amt('100') });
  });
});

describe('engine: cancel, lookup and retention', () => {
  it('cancels an open order, releasing exactly what it locked', () => {
    const h = new Harness();
    accepted(h.deposit('B', 'USD', '1000'));
    placed(h.limit('B', 'BTC-USD', 'buy', '123.45', '2'));
    const r = accepted(h.cancel('B', 1));
    expect(r.value).to.deep.include({ kind: 'cancelled', releasedAsset: 'USD', releasedAmount: amt('246.9') });
    expect(r.value.kind === 'cancelled' && r.value.order).to.include({ status: 'cancelled', cancelReason: 'user', locked: 0n });
    expect(h.balance('B', 'USD')).to.deep.equal({ available: amt('1000'), locked: 0n });
    expect(h.engine.depth('BTC-USD', 5)!.bids).to.deep.equal([]);
    expect(r.events.map((e) => e.type)).to.deep.equal(['orderUpdated', 'bookLevel', 'balance']);
  });

  it('answers NOT_FOUND alike for an unknown order and for another user’s order', () => {
    const h = new Harness();
    accepted(h.deposit('B', 'USD', '1000'));
    placed(h.limit('B', 'BTC-USD', 'buy', '100', '1'));
    const unknown = rejected(h.cancel('B', 99));
    const foreign = rejected(h.cancel('M', 1));
    expect(unknown).to.deep.equal({ code: 'NOT_FOUND', field: 'order_id', message: 'order_id: order 99 not found' });
    expect(foreign).to.deep.equal({ code: 'NOT_FOUND', field: 'order_id', message: 'order_id: order 1 not found' });
    expect(h.engine.getOrder('M', 1)).to.equal(undefined);
    expect(h.engine.getOrder('B', 1)).to.include({ orderId: 1, userId: 'B' });
  });

  it('answers a repeated cancel with the cancelled order, releasing nothing; a filled order is FAILED_PRECONDITION', () => {
    const h = new Harness();
    accepted(h.deposit('B', 'USD', '1000'));
    accepted(h.deposit('S', 'BTC', '1'));
    placed(h.limit('B', 'BTC-USD', 'buy', '100', '1'));
    const first = accepted(h.cancel('B', 1));
    const hash = h.engine.stateHash();
    const again = accepted(h.cancel('B', 1));
    expect(again.value).to.deep.equal({ ...first.value, releasedAmount: 0n });
    expect(again.events).to.deep.equal([]);
    expect(h.engine.stateHash()).to.equal(hash);
    placed(h.limit('B', 'BTC-USD', 'buy', '100', '1'));
    placed(h.limit('S', 'BTC-USD', 'sell', '100', '1'));
    expect(rejected(h.cancel('B', 2))).to.deep.equal({
      code: 'FAILED_PRECONDITION', field: 'order_id', message: 'order_id: order 2 is already filled',
    });
  });

  it('cancels by client order id, only the caller’s own, NOT_FOUND otherwise', () => {
    const h = new Harness();
    accepted(h.deposit('B', 'USD', '1000'));
    accepted(h.deposit('M', 'USD', '1000'));
    placed(h.limit('B', 'BTC-USD', 'buy', '100', '1', { clientOrderId: 'mine' }));
    placed(h.limit('M', 'BTC-USD', 'buy', '100', '1', { clientOrderId: 'theirs' }));
    const byOther = rejected(h.send({ kind: 'cancel', userId: 'B', orderId: 0, clientOrderId: 'theirs' }));
    expect(byOther).to.deep.equal({ code: 'NOT_FOUND', field: 'client_order_id', message: 'client_order_id: order "theirs" not found' });
    expect(h.engine.getOrder('M', 2)).to.include({ status: 'open' });
    const r = accepted(h.send({ kind: 'cancel', userId: 'B', orderId: 0, clientOrderId: 'mine' }));
    expect(r.value).to.deep.include({ kind: 'cancelled', releasedAsset: 'USD', releasedAmount: amt('100') });
    expect(r.value.kind === 'cancelled' && r.value.order).to.include({ orderId: 1, status: 'cancelled' });
    expect(accepted(h.send({ kind: 'cancel', userId: 'B', orderId: 0, clientOrderId: 'mine' })).value).to.deep.include({ releasedAmount: 0n });
    expect(rejected(h.send({ kind: 'cancel', userId: 'B', orderId: 0, clientOrderId: 't\tab' }))).to.include({ code: 'INVALID_ARGUMENT', field: 'client_order_id' });
  });

  it('answers FAILED_PRECONDITION for the user’s own filled order, whose lock is already gone', () => {
    const h = new Harness();
    accepted(h.deposit('B', 'USD', '1000'));
    accepted(h.deposit('S', 'BTC', '1'));
    placed(h.limit('B', 'BTC-USD', 'buy', '100', '1'));
    placed(h.limit('S', 'BTC-USD', 'sell', '100', '1'));
    expect(rejected(h.cancel('B', 1))).to.deep.equal({
      code: 'FAILED_PRECONDITION', field: 'order_id', message: 'order_id: order 1 is already filled',
    });
    expect(h.balance('B', 'USD')).to.deep.equal({ available: amt('900'), locked: 0n });
  });

  it('keeps 3,000 resting orders (past the order store’s first capacity) apart, each with its own fields', () => {
    const h = new Harness();
    accepted(h.deposit('B', 'USD', '100000'));
    accepted(h.deposit('S', 'ETH', '100000'));
    const count = 3000;
    for (let i = 1; i <= count; i++) {
      // Prices 1.000001 .. 1.003000 for buys (odd ids), 10.000001 .. for sells (even ids); quantity i × 10^-8.
      const side = i % 2 === 1 ? 'buy' : 'sell';
      const price = side === 'buy' ? 1_000_000n + BigInt(i) : 10_000_000n + BigInt(i);
      accepted(h.send({
        kind: 'placeLimit', orderId: h.nextOrderId++, userId: side === 'buy' ? 'B' : 'S', market: side === 'buy' ? 'BTC-USD' : 'ETH-USD',
        side, price, quantity: BigInt(i), timeInForce: 'GTC', postOnly: false, selfTradePrevention: 'cancel_resting', clientOrderId: `c${i}`,
      }));
    }
    for (let i = 1; i <= count; i++) {
      const buy = i % 2 === 1;
      expect(h.engine.getOrder(buy ? 'B' : 'S', i), `order ${i}`).to.deep.include({
        orderId: i, userId: buy ? 'B' : 'S', market: buy ? 'BTC-USD' : 'ETH-USD', side: buy ? 'buy' : 'sell',
        price: buy ? 1_000_000n + BigInt(i) : 10_000_000n + BigInt(i), quantity: BigInt(i), filled: 0n, status: 'open',
        clientOrderId: `c${i}`, createdAt: 1_700_000_000_002 + i,
      });
    }
    expect(h.engine.depth('BTC-USD', 1)!.bids).to.deep.equal([{ price: 1_000_000n + 2999n, quantity: 2999n, orderCount: 1 }]);
    expect(h.engine.depth('ETH-USD', 1)!.asks).to.deep.equal([{ price: 10_000_000n + 2n, quantity: 2n, orderCount: 1 }]);
  });

  it('answers a retried placement with the original order and its placement trades, while its client order id is retained', () => {
    const h = new Harness({ ...CONFIG, closedOrdersRetainedPerUser: 1 });
    accepted(h.deposit('B', 'USD', '1000'));
    accepted(h.deposit('S', 'BTC', '1'));
    placed(h.limit('S', 'BTC-USD', 'sell', '1', '0.4'));
    const first = placed(h.limit('B', 'BTC-USD', 'buy', '1', '1', { clientOrderId: 'x' }));
    expect(first.trades).to.have.length(1);
    const hash = h.engine.stateHash();
    const retry = placed(h.limit('B', 'BTC-USD', 'buy', '1', '1', { clientOrderId: 'x' }));
    expect(retry.order).to.deep.equal(first.order);
    expect(retry.trades).to.deep.equal(first.trades);
    expect(retry.events).to.deep.equal([]);
    expect(h.engine.stateHash()).to.equal(hash);
    // The order as it is now: after a cancel, the retry shows it cancelled, with the same trades.
    accepted(h.cancel('B', 2));
    const later = placed(h.limit('B', 'BTC-USD', 'buy', '1', '1', { clientOrderId: 'x' }));
    expect(later.order).to.include({ orderId: 2, status: 'cancelled' });
    expect(later.trades).to.deep.equal(first.trades);
    accepted(h.deposit('C', 'USD', '1000'));
    placed(h.limit('C', 'BTC-USD', 'buy', '1', '1', { clientOrderId: 'x' })); // another user may
    placed(h.limit('B', 'BTC-USD', 'buy', '1', '1', { clientOrderId: 'y' }));
    accepted(h.cancel('B', 6)); // evicts order 2 (retention 1): x is free again
    const fresh = placed(h.limit('B', 'BTC-USD', 'buy', '1', '1', { clientOrderId: 'x' }));
    expect(fresh.order).to.include({ orderId: 7, clientOrderId: 'x', status: 'open' });
  });

  it('refuses a client order id repeated with other parameters (ALREADY_EXISTS), changing nothing', () => {
    const h = new Harness();
    accepted(h.deposit('B', 'USD', '1000'));
    placed(h.limit('B', 'BTC-USD', 'buy', '1', '1', { clientOrderId: 'x' }));
    const hash = h.engine.stateHash();
    const changes: LimitOptions[] = [{ timeInForce: 'IOC' }, { postOnly: true }, { selfTradePrevention: 'cancel_both' }];
    for (const o of changes) {
      expect(rejected(h.limit('B', 'BTC-USD', 'buy', '1', '1', { ...o, clientOrderId: 'x' }))).to.deep.equal({
        code: 'ALREADY_EXISTS', field: 'client_order_id', message: 'client_order_id: "x" is already used by your order 1, with other parameters',
      });
    }
    expect(rejected(h.limit('B', 'ETH-USD', 'buy', '1', '1', { clientOrderId: 'x' })).code).to.equal('ALREADY_EXISTS');
    expect(rejected(h.limit('B', 'BTC-USD', 'sell', '1', '1', { clientOrderId: 'x' })).code).to.equal('ALREADY_EXISTS');
    expect(rejected(h.limit('B', 'BTC-USD', 'buy', '2', '1', { clientOrderId: 'x' })).code).to.equal('ALREADY_EXISTS');
    expect(rejected(h.limit('B', 'BTC-USD', 'buy', '1', '2', { clientOrderId: 'x' })).code).to.equal('ALREADY_EXISTS');
    expect(rejected(h.market('B', 'BTC-USD', 'buy', '1', { clientOrderId: 'x' })).code).to.equal('ALREADY_EXISTS');
    expect(h.engine.stateHash()).to.equal(hash);
    // An empty client order id means none, for limit and market orders alike.
    expect(placed(h.limit('B', 'BTC-USD', 'buy', '1', '1', { clientOrderId: '' })).order).to.include({ clientOrderId: undefined, status: 'open' });
    expect(rejected(h.market('B', 'ETH-USD', 'buy', '1', { clientOrderId: '' })).field).to.equal('quantity');
    expect(rejected(h.limit('B', 'BTC-USD', 'buy', '1', '1', { clientOrderId: '' + '\u0007' })).field).to.equal('client_order_id');
    expect(rejected(h.limit('B', 'BTC-USD', 'buy', '1', '1', { clientOrderId: 'z'.repeat(65) })).field).to.equal('client_order_id');
  });

  it('answers a retried market order with its fills, and refuses it as a limit order', () => {
    const h = new Harness();
    accepted(h.deposit('B', 'USD', '1000'));
    accepted(h.deposit('S', 'BTC', '1'));
    placed(h.limit('S', 'BTC-USD', 'sell', '100', '0.5'));
    const first = placed(h.market('B', 'BTC-USD', 'buy', '0.5', { clientOrderId: 'm' }));
    const retry = placed(h.market('B', 'BTC-USD', 'buy', '0.5', { clientOrderId: 'm' }));
    expect(retry).to.deep.equal({ ...first, events: [] });
    expect(h.balance('B', 'BTC').available).to.equal(qty('0.5'));
    expect(rejected(h.limit('B', 'BTC-USD', 'buy', '100', '0.5', { clientOrderId: 'm' })).code).to.equal('ALREADY_EXISTS');
  });

  it('credits a deposit once per request id within the window; another asset or amount is ALREADY_EXISTS', () => {
    const h = new Harness({ ...CONFIG, closedOrdersRetainedPerUser: 2 });
    const deposit = (requestId: string, asset = 'USD', amount = amt('10')) => h.send({ kind: 'deposit', userId: 'B', asset, amount, requestId });
    const first = accepted(deposit('r1'));
    const hash = h.engine.stateHash();
    const again = accepted(deposit('r1'));
    expect(again.value).to.deep.equal(first.value);
    expect(again.events).to.deep.equal([]);
    expect(h.engine.stateHash()).to.equal(hash);
    expect(rejected(deposit('r1', 'BTC'))).to.deep.equal({
      code: 'ALREADY_EXISTS', field: 'request_id', message: 'request_id: "r1" is already used by a deposit of another asset, amount or reference',
    });
    expect(rejected(deposit('r1', 'USD', amt('11'))).code).to.equal('ALREADY_EXISTS');
    accepted(h.send({ kind: 'deposit', userId: 'C', asset: 'USD', amount: amt('10'), requestId: 'r1' })); // per user
    accepted(deposit('r2'));
    accepted(deposit('r3')); // the window holds the last 2: r1 is forgotten
    accepted(deposit('r1'));
    expect(h.balance('B', 'USD').available).to.equal(amt('40'));
    expect(rejected(deposit('\u0000')).field).to.equal('request_id');
    accepted(h.send({ kind: 'deposit', userId: 'B', asset: 'USD', amount: amt('1'), requestId: '' })); // empty: none
  });

  it('retains closed orders up to the limit, oldest closed evicted first; open orders always', () => {
    const h = new Harness({ ...CONFIG, closedOrdersRetainedPerUser: 2 });
    accepted(h.deposit('B', 'USD', '1000'));
    for (let i = 0; i < 5; i++) placed(h.limit('B', 'BTC-USD', 'buy', '1', '1'));
    for (const id of [3, 1, 4]) accepted(h.cancel('B', id));
    expect(h.engine.getOrder('B', 3)).to.equal(undefined); // closed first: evicted
    expect(h.engine.getOrder('B', 1)).to.include({ status: 'cancelled' });
    expect(rejected(h.cancel('B', 3)).code).to.equal('NOT_FOUND');
    const ids = (openOnly: boolean, beforeOrderId?: number, limit = 10, market?: string) =>
      h.engine.listOrders('B', { openOnly, limit, ...(beforeOrderId === undefined ? {} : { beforeOrderId }), ...(market === undefined ? {} : { market }) }).map((o) => o.orderId);
    expect(ids(false)).to.deep.equal([5, 4, 2, 1]);
    expect(ids(true)).to.deep.equal([5, 2]);
    expect(ids(false, 4, 2)).to.deep.equal([2, 1]);
    expect(ids(false, undefined, 2)).to.deep.equal([5, 4]);
    expect(ids(false, undefined, 10, 'BTC-USD')).to.deep.equal([5, 4, 2, 1]);
    expect(ids(true, 5, 10, 'BTC-USD')).to.deep.equal([2]);
    expect(ids(false, undefined, 10, 'ETH-USD')).to.deep.equal([]);
    expect(ids(false, undefined, -1)).to.deep.equal([]);
    expect(ids(false, undefined, 10, 'NOPE-USD')).to.deep.equal([]);
    expect(h.engine.listOrders('nobody', { openOnly: false, limit: 10 })).to.deep.equal([]);
  });

  it('retains nothing when the limit is 0, and a filled market order is retrievable when it is not', () => {
    const none = new Harness({ ...CONFIG, closedOrdersRetainedPerUser: 0 });
    accepted(none.deposit('B', 'USD', '1000'));
    const r = placed(none.limit('B', 'BTC-USD', 'buy', '1', '1', { timeInForce: 'IOC' }));
    expect(r.order).to.include({ status: 'cancelled' });
    expect(none.engine.getOrder('B', 1)).to.equal(undefined);
    const h = seedBook();
    placed(h.market('T', 'SOL-USD', 'buy', '1'));
    expect(h.engine.getOrder('T', 5)).to.include({ type: 'market', status: 'filled' });
  });
});

describe('engine: validation and sequencing', () => {
  it('rejects bad input with INVALID_ARGUMENT naming the field, changing nothing and emitting nothing', () => {
    const h = new Harness();
    accepted(h.deposit('B', 'USD', '1000'));
    const hash = h.engine.stateHash();
    const base = {
      kind: 'placeLimit', userId: 'B', market: 'BTC-USD', side: 'buy', price: px('1'), quantity: qty('1'),
      timeInForce: 'GTC', postOnly: false, selfTradePrevention: 'cancel_resting',
    } as const;
    // Messages are what a client reads: each is exact.
    const cases: [Record<string, unknown>, string, string][] = [
      [{ market: 'DOGE-USD' }, 'market', 'unknown market "DOGE-USD"'],
      [{ userId: '' }, 'user_id', 'must not be empty'],
      [{ side: 'long' }, 'side', 'must be buy or sell'],
      [{ price: 0n }, 'price', 'must be greater than zero'],
      [{ price: -5n }, 'price', 'must be greater than zero'],
      [{ price: 5 }, 'price', 'must be an integer number of units'],
      [{ price: 2n ** 53n }, 'price', 'exceeds the maximum 9007199254.740991'],
      [{ quantity: 0n }, 'quantity', 'must be greater than zero'],
      [{ quantity: 2n ** 64n }, 'quantity', 'exceeds the maximum 90071992.54740991'],
      // Worth 10^9 USD > 2^53-1 units.
      [{ price: px('1000000'), quantity: qty('1000') }, 'quantity', 'the order is worth more than the maximum 90071992.54740991 USD'],
      [{ timeInForce: 'GTT' }, 'time_in_force', 'must be GTC, IOC, FOK or GTD'],
      [{ postOnly: 'yes' }, 'post_only', 'must be a boolean'],
      [{ postOnly: true, timeInForce: 'IOC' }, 'post_only', 'requires time_in_force GTC or GTD'],
      [{ selfTradePrevention: 'none' }, 'self_trade_prevention', 'must be cancel_resting, cancel_taker or cancel_both'],
      [{ clientOrderId: 'x'.repeat(65) }, 'client_order_id', 'must be 1 to 64 printable ASCII characters'],
      [{ clientOrderId: 'caf\u00e9' }, 'client_order_id', 'must be 1 to 64 printable ASCII characters'],
    ];
    for (const [change, field, what] of cases) {
      const result = h.send({ ...base, orderId: h.nextOrderId++, ...change } as never);
      const where = JSON.stringify(change, (_k, v) => (typeof v === 'bigint' ? `${v}` : v));
      expect(rejected(result), where).to.deep.equal({ code: 'INVALID_ARGUMENT', field, message: `${field}: ${what}` });
    }
    expect(rejected(h.send({ kind: 'deposit', userId: 'B', asset: 'DOGE', amount: 1n })).message).to.equal('asset: unknown asset "DOGE"');
    expect(rejected(h.send({ kind: 'deposit', userId: 'B', asset: 'USD', amount: 0n })).message).to.equal('amount: must be greater than zero');
    expect(rejected(h.send({ kind: 'deposit', userId: '', asset: 'USD', amount: 1n })).message).to.equal('user_id: must not be empty');
    const market = { kind: 'placeMarket', userId: 'B', market: 'BTC-USD', side: 'buy', quantity: 1n, selfTradePrevention: 'cancel_resting' } as const;
    for (const [change, field, what] of cases.slice(0, 3)) {
      expect(rejected(h.send({ ...market, orderId: h.nextOrderId++, ...change } as never)).message).to.equal(`${field}: ${what}`);
    }
    expect(h.engine.stateHash()).to.equal(hash);
    expect(h.engine.lastSeq()).to.equal(h.log.length); // rejected commands still consume their seq
  });

  it('refuses deposits that would take an asset’s total past 2^64-1 units', () => {
    const h = new Harness();
    accepted(h.send({ kind: 'deposit', userId: 'A', asset: 'BTC', amount: 2n ** 64n - 2n }));
    accepted(h.send({ kind: 'deposit', userId: 'B', asset: 'BTC', amount: 1n }));
    expect(rejected(h.send({ kind: 'deposit', userId: 'C', asset: 'BTC', amount: 1n }))).to.deep.equal({
      code: 'INVALID_ARGUMENT', field: 'amount', message: 'amount: the total BTC held by all users would exceed the maximum 184467440737.09551615',
    });
    expect(h.balance('A', 'BTC').available).to.equal(2n ** 64n - 2n);
    accepted(h.send({ kind: 'deposit', userId: 'C', asset: 'ETH', amount: 2n ** 64n - 1n }));
  });

  it('throws on a seq out of order, a bad or reused order id, or an unknown command: caller bugs', () => {
    const h = new Harness();
    accepted(h.deposit('B', 'USD', '10'));
    expect(() => h.engine.apply({ kind: 'cancel', seq: 5, timestamp: 0, userId: 'B', orderId: 1 })).to.throw('command seq 5 out of order: expected 2');
    expect(() => h.engine.apply({ kind: 'cancel', seq: 1, timestamp: 0, userId: 'B', orderId: 1 })).to.throw('command seq 1 out of order: expected 2');
    for (const orderId of [0, -1, 1.5, 2 ** 53]) {
      h.nextOrderId = orderId;
      expect(() => h.limit('B', 'BTC-USD', 'buy', '1', '1'), `order id ${orderId}`).to.throw(`order id ${orderId} is not a positive integer`);
      h.nextOrderId = orderId;
      expect(() => h.market('B', 'BTC-USD', 'buy', '1'), `order id ${orderId}`).to.throw(`order id ${orderId} is not a positive integer`);
    }
    h.nextOrderId = 1;
    placed(h.limit('B', 'BTC-USD', 'buy', '1', '1'));
    h.nextOrderId = 1;
    expect(() => h.limit('B', 'BTC-USD', 'buy', '1', '1')).to.throw('order id 1 reused');
    expect(() => h.send({ kind: 'transfer' } as never)).to.throw('unknown command kind transfer');
    expect(h.engine.lastSeq(), 'a command that throws consumes no seq').to.equal(2);
  });

  it('rejects an engine config with duplicate markets, a market of one asset, an empty asset or a bad retention', () => {
    const [btc, eth] = [CONFIG.markets[0]!, CONFIG.markets[1]!];
    expect(() => new Engine({ markets: [btc, eth, btc], closedOrdersRetainedPerUser: 1 })).to.throw('duplicate market BTC-USD');
    expect(() => new Engine({ markets: [btc, { symbol: 'BTC-BTC', base: 'BTC', quote: 'BTC' }], closedOrdersRetainedPerUser: 1 })).to.throw(
      'market BTC-BTC trades BTC against itself',
    );
    for (const [base, quote] of [['', 'USD'], ['BTC', ''], [7, 'USD']]) {
      const market = { symbol: 'X-Y', base, quote } as never;
      expect(() => new Engine({ markets: [market], closedOrdersRetainedPerUser: 1 }), `${base}/${quote}`).to.throw('market assets must be non-empty strings');
    }
    for (const retained of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(() => new Engine({ markets: CONFIG.markets, closedOrdersRetainedPerUser: retained }), `${retained}`).to.throw(
        'closedOrdersRetainedPerUser must be a non-negative integer',
      );
    }
    // Assets in order of first appearance, a shared one (USD) once; an unknown user holds zero of each.
    expect(new Engine({ markets: [btc, eth], closedOrdersRetainedPerUser: 0 }).balances('nobody')).to.deep.equal([
      { asset: 'BTC', available: 0n, locked: 0n },
      { asset: 'USD', available: 0n, locked: 0n },
      { asset: 'ETH', available: 0n, locked: 0n },
    ]);
  });
});

describe('engine: amending an open order', () => {
  /** Bids of B at 100 (order 1, 1 BTC) then C at 100 (order 2, 1 BTC); S holds BTC to sell. */
  function twoBids(): Harness {
    const h = new Harness();
    accepted(h.deposit('B', 'USD', '1000'));
    accepted(h.deposit('C', 'USD', '1000'));
    accepted(h.deposit('S', 'BTC', '10'));
    placed(h.limit('B', 'BTC-USD', 'buy', '100', '1'));
    placed(h.limit('C', 'BTC-USD', 'buy', '100', '1'));
    return h;
  }
  const amended = (result: ReturnType<Harness['send']>) => {
    const r = accepted(result);
    if (r.value.kind !== 'amended') throw new Error(`expected an amendment, got ${r.value.kind}`);
    return { ...r.value, events: r.events };
  };
  /** The order ids of the first market's bid levels, each in queue order: MRKT's level sizes over ORDR's first records. */
  const queue = (h: Harness): number[][] => {
    const sections = readSections(h.engine.snapshot());
    const markets = Buffer.from(sections.get('MRKT')!);
    const orders = Buffer.from(sections.get('ORDR')!);
    let at = 0;
    for (let s = 0; s < 3; s++) at += 4 + markets.readUInt32LE(at);
    const levels = markets.readUInt32LE(at + 8);
    let o = 0;
    return Array.from({ length: levels }, (_, l) =>
      Array.from({ length: markets.readUInt32LE(at + 12 + 4 * l) }, () => orders.readDoubleLE(ORDER_BYTES * o++ + ORDER_LAYOUT.id)),
    );
  };

  it('a smaller quantity keeps its place and releases exactly the lock it no longer needs', () => {
    const h = twoBids();
    const r = amended(h.amend('B', 1, { quantity: '0.4' }));
    expect(r.order).to.include({ orderId: 1, quantity: qty('0.4'), locked: amt('40'), status: 'open' });
    expect(r.trades).to.deep.equal([]);
    expect(h.balance('B', 'USD')).to.deep.equal({ available: amt('960'), locked: amt('40') });
    expect(queue(h)).to.deep.equal([[1, 2]]);
    expect(h.engine.depth('BTC-USD', 1)!.bids).to.deep.equal([{ price: px('100'), quantity: qty('1.4'), orderCount: 2 }]);
    expect(r.events.map((e) => e.type)).to.deep.equal(['orderUpdated', 'bookLevel', 'balance']);
    // The first in the queue still trades first.
    const sell = placed(h.limit('S', 'BTC-USD', 'sell', '100', '0.4'));
    expect(sell.trades.map((t) => t.makerOrderId)).to.deep.equal([1]);
  });

  it('a larger quantity goes to the back of its level and locks the difference, refused if not available', () => {
    const h = twoBids();
    amended(h.amend('B', 1, { quantity: '3' }));
    expect(queue(h)).to.deep.equal([[2, 1]]);
    expect(h.balance('B', 'USD')).to.deep.equal({ available: amt('700'), locked: amt('300') });
    const hash = h.engine.stateHash();
    expect(rejected(h.amend('B', 1, { quantity: '11' }))).to.deep.equal({
      code: 'FAILED_PRECONDITION', message: 'insufficient USD: available 700, required 800',
    });
    expect(h.engine.stateHash()).to.equal(hash);
  });

  it('a new price moves it to the back of the new level; a crossing price trades first, as a taker', () => {
    const h = twoBids();
    placed(h.limit('S', 'BTC-USD', 'sell', '101', '0.5')); // order 3
    placed(h.limit('S', 'BTC-USD', 'sell', '102', '2')); // order 4
    const up = amended(h.amend('C', 2, { price: '99' }));
    expect(up.order).to.include({ price: px('99'), locked: amt('99') });
    expect(h.balance('C', 'USD')).to.deep.equal({ available: amt('901'), locked: amt('99') });
    const cross = amended(h.amend('B', 1, { price: '101.5', quantity: '2' }));
    expect(cross.trades.map((t) => [t.makerOrderId, t.price, t.quantity, t.takerOrderId])).to.deep.equal([[3, px('101'), qty('0.5'), 1]]);
    // Locked 2 × 101.5 = 203, paid 50.5 for 0.5: as for a placement, the 0.25 of price improvement
    // stays locked (beside the 152.25 the rest may cost) until the order closes.
    expect(cross.order).to.include({ status: 'partially_filled', filled: qty('0.5'), price: px('101.5'), locked: amt('152.5') });
    expect(h.balance('B', 'USD')).to.deep.equal({ available: amt('797'), locked: amt('152.5') });
    expect(h.engine.depth('BTC-USD', 5)!.bids.map((l) => l.price)).to.deep.equal([px('101.5'), px('99')]);
    expect(cross.events[0]).to.deep.include({ type: 'orderUpdated' });
  });

  it('refuses: below the filled quantity, a closed order, another user’s order (NOT_FOUND), bad fields; nothing changes', () => {
    const h = twoBids();
    placed(h.limit('S', 'BTC-USD', 'sell', '100', '0.5'));
    const hash = h.engine.stateHash();
    expect(rejected(h.amend('B', 1, { quantity: '0.5' }))).to.deep.equal({
      code: 'FAILED_PRECONDITION', field: 'quantity', message: 'quantity: must be above the filled quantity 0.5',
    });
    expect(rejected(h.amend('S', 1, { quantity: '0.7' }))).to.deep.equal({ code: 'NOT_FOUND', field: 'order_id', message: 'order_id: order 1 not found' });
    expect(rejected(h.amend('B', 3, { quantity: '0.7' })).code).to.equal('NOT_FOUND'); // the seller's, filled
    expect(rejected(h.amend('B', 1, {}))).to.deep.equal({ code: 'INVALID_ARGUMENT', field: 'quantity', message: 'quantity: give a new price, a new quantity or both' });
    expect(rejected(h.send({ kind: 'amend', userId: 'B', orderId: 1, price: 0n })).field).to.equal('price');
    expect(rejected(h.send({ kind: 'amend', userId: 'B', orderId: 1, quantity: 2n ** 53n })).field).to.equal('quantity');
    expect(rejected(h.send({ kind: 'amend', userId: 'B', orderId: 1, price: 2n ** 40n, quantity: 2n ** 40n })).code).to.equal('INVALID_ARGUMENT');
    expect(h.engine.stateHash()).to.equal(hash);
    accepted(h.cancel('B', 1));
    expect(rejected(h.amend('B', 1, { quantity: '2' }))).to.deep.equal({
      code: 'FAILED_PRECONDITION', field: 'order_id', message: 'order_id: order 1 is already cancelled',
    });
  });

  it('amends by client order id; a post-only order may not cross', () => {
    const h = new Harness();
    accepted(h.deposit('B', 'USD', '1000'));
    accepted(h.deposit('S', 'BTC', '1'));
    placed(h.limit('S', 'BTC-USD', 'sell', '101', '1'));
    placed(h.limit('B', 'BTC-USD', 'buy', '100', '1', { postOnly: true, clientOrderId: 'po' }));
    expect(rejected(h.send({ kind: 'amend', userId: 'B', orderId: 0, clientOrderId: 'po', price: px('101') }))).to.include({
      code: 'FAILED_PRECONDITION', field: 'post_only',
    });
    const r = amended(h.send({ kind: 'amend', userId: 'B', orderId: 0, clientOrderId: 'po', price: px('100.5') }));
    expect(r.order).to.include({ orderId: 2, price: px('100.5'), clientOrderId: 'po' });
    expect(rejected(h.send({ kind: 'amend', userId: 'S', orderId: 0, clientOrderId: 'po', price: px('100') })).code).to.equal('NOT_FOUND');
  });

  it('a retry of the original placement still gets the order after an amendment; the amended parameters are another request', () => {
    const h = new Harness();
    accepted(h.deposit('B', 'USD', '1000'));
    placed(h.limit('B', 'BTC-USD', 'buy', '100', '1', { clientOrderId: 'k' }));
    amended(h.send({ kind: 'amend', userId: 'B', orderId: 0, clientOrderId: 'k', price: px('99'), quantity: qty('2') }));
    amended(h.send({ kind: 'amend', userId: 'B', orderId: 0, clientOrderId: 'k', quantity: qty('1.5') }));
    const retry = placed(h.limit('B', 'BTC-USD', 'buy', '100', '1', { clientOrderId: 'k' }));
    expect(retry.order).to.include({ orderId: 1, price: px('99'), quantity: qty('1.5') });
    expect(retry.events).to.deep.equal([]);
    expect(rejected(h.limit('B', 'BTC-USD', 'buy', '99', '1.5', { clientOrderId: 'k' })).code).to.equal('ALREADY_EXISTS');
    const restored = Engine.restore(CONFIG, h.engine.snapshot());
    expect(restored.stateHash()).to.equal(h.engine.stateHash());
    // The restored engine compares a retry with what the order was placed with, not its amended terms.
    const retryAgain = { kind: 'placeLimit', seq: h.engine.lastSeq() + 1, timestamp: 1, orderId: 50, userId: 'B', market: 'BTC-USD', side: 'buy',
      price: px('100'), quantity: qty('1'), timeInForce: 'GTC', postOnly: false, selfTradePrevention: 'cancel_resting', clientOrderId: 'k' } as const;
    expect(placed(restored.apply(retryAgain)).order).to.include({ orderId: 1 });
    expect(rejected(restored.apply({ ...retryAgain, seq: retryAgain.seq + 1, price: px('99'), quantity: qty('1.5') })).code).to.equal('ALREADY_EXISTS');
  });

  it('replays and restores to the same state', () => {
    const h = twoBids();
    amended(h.amend('B', 1, { price: '99', quantity: '2' }));
    amended(h.amend('C', 2, { quantity: '0.5' }));
    const replay = new Engine(CONFIG);
    for (const cmd of h.log) replay.apply(cmd);
    expect(replay.stateHash()).to.equal(h.engine.stateHash());
    expect(Engine.restore(CONFIG, h.engine.snapshot()).stateHash()).to.equal(h.engine.stateHash());
  });
});

describe('engine: cancelling all of a user’s orders', () => {
  it('cancels the chosen open orders in one command, oldest first, reporting the count and what each asset got back', () => {
    const h = new Harness();
    accepted(h.deposit('B', 'USD', '1000'));
    accepted(h.deposit('B', 'ETH', '10'));
    accepted(h.deposit('O', 'USD', '1000'));
    placed(h.limit('B', 'BTC-USD', 'buy', '10', '1')); // 1
    placed(h.limit('B', 'ETH-USD', 'sell', '20', '2')); // 2
    placed(h.limit('B', 'ETH-USD', 'buy', '5', '1')); // 3
    placed(h.limit('O', 'ETH-USD', 'buy', '6', '1')); // 4: someone else's
    const seq = h.engine.lastSeq();
    const some = accepted(h.send({ kind: 'cancelAll', userId: 'B', market: 'ETH-USD' }));
    expect(h.engine.lastSeq()).to.equal(seq + 1);
    expect(some.value).to.deep.equal({ kind: 'cancelledAll', count: 2, released: [{ asset: 'ETH', amount: amt('2') }, { asset: 'USD', amount: amt('5') }] });
    expect(some.events.filter((e) => e.type === 'orderUpdated').map((e) => e.type === 'orderUpdated' && e.order.orderId)).to.deep.equal([2, 3]);
    expect(h.engine.getOrder('O', 4)).to.include({ status: 'open' });
    expect(h.engine.listOrders('B', { openOnly: true, limit: 10 }).map((o) => o.orderId)).to.deep.equal([1]);
    const none = accepted(h.send({ kind: 'cancelAll', userId: 'B', side: 'sell' }));
    expect(none.value).to.deep.equal({ kind: 'cancelledAll', count: 0, released: [] });
    expect(none.events).to.deep.equal([]);
    expect(accepted(h.send({ kind: 'cancelAll', userId: 'B' })).value).to.deep.include({ count: 1 });
    expect(h.balance('B', 'USD')).to.deep.equal({ available: amt('1000'), locked: 0n });
    expect(rejected(h.send({ kind: 'cancelAll', userId: 'B', market: 'DOGE-USD' }))).to.include({ code: 'INVALID_ARGUMENT', field: 'market' });
    expect(rejected(h.send({ kind: 'cancelAll', userId: 'B', side: 'up' as never }))).to.include({ code: 'INVALID_ARGUMENT', field: 'side' });
    expect(accepted(h.send({ kind: 'cancelAll', userId: 'nobody' })).value).to.deep.include({ count: 0 });
  });
});

describe('engine: snapshot and restore', () => {
  it('restores the same state: same hash, same queries, same future', () => {
    const h = seedBook();
    placed(h.limit('T', 'SOL-USD', 'buy', '97', '2', { clientOrderId: 'bid-1' }));
    placed(h.market('T', 'SOL-USD', 'buy', '6', { clientOrderId: 'mkt-1' }));
    placed(h.limit('T', 'SOL-USD', 'buy', '100', '1', { clientOrderId: 'bid-2' }));
    accepted(h.send({ kind: 'deposit', userId: 'T', asset: 'USD', amount: 1n, requestId: 'dep-1' }));
    accepted(h.send({ kind: 'deposit', userId: 'T', asset: 'USD', amount: 2n, requestId: 'dep-2' }));
    const snapshot = h.engine.snapshot();
    const restored = Engine.restore(CONFIG, snapshot);
    expect(restored.stateHash()).to.equal(h.engine.stateHash());
    expect(restored.snapshot()).to.deep.equal(snapshot);
    expect(restored.lastSeq()).to.equal(h.engine.lastSeq());
    expect(restored.depth('SOL-USD', 10)).to.deep.equal(h.engine.depth('SOL-USD', 10));
    expect(restored.listOrders('T', { openOnly: false, limit: 10 })).to.deep.equal(h.engine.listOrders('T', { openOnly: false, limit: 10 }));
    const next = { kind: 'placeMarket', seq: h.engine.lastSeq() + 1, timestamp: 9, orderId: 100, userId: 'T', market: 'SOL-USD', side: 'buy', quantity: qty('4'), selfTradePrevention: 'cancel_resting' } as const;
    expect(restored.apply(next)).to.deep.equal(h.engine.apply(next));
    expect(restored.stateHash()).to.equal(h.engine.stateHash());
    // The retry state came back: retries answer alike, deposits are not credited twice.
    const retries: Command[] = [
      { kind: 'placeMarket', seq: next.seq + 1, timestamp: 10, orderId: 101, userId: 'T', market: 'SOL-USD', side: 'buy', quantity: qty('6'), selfTradePrevention: 'cancel_resting', clientOrderId: 'mkt-1' },
      { kind: 'placeLimit', seq: next.seq + 2, timestamp: 11, orderId: 102, userId: 'T', market: 'SOL-USD', side: 'buy', price: px('100'), quantity: qty('1'), timeInForce: 'GTC', postOnly: false, selfTradePrevention: 'cancel_resting', clientOrderId: 'bid-2' },
      { kind: 'deposit', seq: next.seq + 3, timestamp: 12, userId: 'T', asset: 'USD', amount: 1n, requestId: 'dep-1' },
      { kind: 'deposit', seq: next.seq + 4, timestamp: 13, userId: 'T', asset: 'USD', amount: 3n, requestId: 'dep-2' },
    ];
    for (const cmd of retries) expect(restored.apply(cmd), cmd.kind).to.deep.equal(h.engine.apply(cmd));
    expect(restored.stateHash()).to.equal(h.engine.stateHash());
    expect(readSections(h.engine.snapshot()).get('RTRY')).to.have.length.above(0);
  });

  it('refuses a snapshot taken under other markets', () => {
    const h = seedBook();
    const other = { ...CONFIG, markets: CONFIG.markets.slice(0, 2) };
    expect(() => Engine.restore(other, h.engine.snapshot())).to.throw(/snapshot/);
  });
});

describe('engine: the bound on one order, and users the engine has not seen', () => {
  const LIMIT = 2n ** 53n - 1n;
  const order = (h: Harness, userId: string, side: 'buy' | 'sell', price: bigint, quantity: bigint) =>
    h.send({
      kind: 'placeLimit', orderId: h.nextOrderId++, userId, market: 'BTC-USD', side, price, quantity,
      timeInForce: 'GTC', postOnly: false, selfTradePrevention: 'cancel_resting',
    });
  const tooValuable = { code: 'INVALID_ARGUMENT', field: 'quantity', message: 'quantity: the order is worth more than the maximum 90071992.54740991 USD' };

  it('accepts a limit order worth exactly 2^53-1 quote units and refuses one worth a unit more, buy or sell', () => {
    const h = new Harness();
    accepted(h.send({ kind: 'deposit', userId: 'B', asset: 'USD', amount: LIMIT }));
    accepted(h.send({ kind: 'deposit', userId: 'S', asset: 'BTC', amount: 10n ** 8n }));
    // (2^53-1) × 10^6 / 10^6: the price in units times 0.01, exactly the bound; 0.01000001 is past it.
    expect(rejected(order(h, 'B', 'buy', LIMIT, 1_000_001n))).to.deep.equal(tooValuable);
    expect(rejected(order(h, 'S', 'sell', LIMIT, 1_000_001n)), 'a sell is bounded too').to.deep.equal(tooValuable);
    const buy = placed(order(h, 'B', 'buy', LIMIT, 1_000_000n));
    expect(buy.order).to.include({ status: 'open', locked: LIMIT });
    expect(h.balance('B', 'USD')).to.deep.equal({ available: 0n, locked: LIMIT });
  });

  it('accepts a market buy costing exactly 2^53-1 and refuses one whose fills add up past it', () => {
    const h = new Harness();
    accepted(h.send({ kind: 'deposit', userId: 'B', asset: 'USD', amount: LIMIT + 1n }));
    accepted(h.send({ kind: 'deposit', userId: 'S', asset: 'BTC', amount: 10n ** 8n }));
    placed(order(h, 'S', 'sell', 1_000_000n, 1n)); // 0.00000001 at 1 costs floor(10^6 × 1 / 10^6) = 1 unit
    placed(order(h, 'S', 'sell', LIMIT, 1_000_000n)); // costs exactly 2^53-1
    const hash = h.engine.stateHash();
    expect(rejected(h.market('B', 'BTC-USD', 'buy', '0.01000001'))).to.deep.equal(tooValuable);
    expect(h.engine.stateHash()).to.equal(hash);
    placed(h.market('B', 'BTC-USD', 'buy', '0.00000001'));
    const r = placed(h.market('B', 'BTC-USD', 'buy', '0.01'));
    expect(r.trades.map((t) => t.quoteAmount)).to.deep.equal([LIMIT]);
    expect(h.balance('B', 'USD')).to.deep.equal({ available: 0n, locked: 0n });
  });

  it('never takes a user it has not seen for the owner of someone else’s order', () => {
    const h = new Harness();
    accepted(h.deposit('A', 'BTC', '1'));
    accepted(h.deposit('S', 'BTC', '1'));
    placed(h.limit('S', 'BTC-USD', 'sell', '100', '1'));
    // Z has no account: its market order meets S's order as a stranger's, and fails only for funds.
    expect(rejected(h.market('Z', 'BTC-USD', 'buy', '1', { selfTradePrevention: 'cancel_taker' }))).to.deep.equal({
      code: 'FAILED_PRECONDITION', message: 'insufficient USD: available 0, required 100',
    });
    expect(h.engine.balances('Z')).to.deep.equal([
      { asset: 'BTC', available: 0n, locked: 0n },
      { asset: 'USD', available: 0n, locked: 0n },
      { asset: 'ETH', available: 0n, locked: 0n },
      { asset: 'SOL', available: 0n, locked: 0n },
    ]);
    expect(h.engine.listOrders('Z', { openOnly: false, limit: 10 })).to.deep.equal([]);
    expect(h.engine.depth('DOGE-USD', 10)).to.equal(undefined);
    expect(h.engine.listOrders('S', { openOnly: false, limit: 0 })).to.deep.equal([]);
    expect(h.engine.listOrders('S', { openOnly: false, limit: 1 }).map((o) => o.orderId)).to.deep.equal([1]);
  });
});
