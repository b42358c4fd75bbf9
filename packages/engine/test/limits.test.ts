import { expect } from 'chai';
import { Engine, limitsOf, SnapshotInvalidError, type EngineLimits } from '../src/index';
import { concatParts, frameSections, readSections } from '../src/snapshot';
import { accepted, CONFIG, Harness, placed, rejected } from './harness';

const TOO_MANY_OPEN = { code: 'FAILED_PRECONDITION', field: 'market' };

function configure(h: Harness, change: Partial<EngineLimits>) {
  return h.send({ kind: 'configure', limits: { ...h.engine.limits(), ...change } });
}

/** `bytes` with LIMT's payload replaced, checksums right. */
function withLimits(bytes: Uint8Array, limits: readonly number[]): Uint8Array {
  const payload = new Uint8Array(8 * limits.length);
  limits.forEach((value, i) => new DataView(payload.buffer).setFloat64(8 * i, value, true));
  return concatParts(frameSections([...readSections(bytes)].map(([tag, p]) => ({ tag, payload: tag === 'LIMT' ? payload : p }))));
}

describe('engine limits (ConfigureCommand)', () => {
  it('start as the config says, defaults filled in', () => {
    expect(new Engine(CONFIG).limits()).to.deep.equal({
      closedOrdersRetainedPerUser: 1000, fillsRetainedPerUser: 100, tradesRetainedPerMarket: 1000, maxStopsPerUserMarket: 1000, maxOpenOrdersPerUserMarket: 10_000,
    });
    expect(limitsOf({ ...CONFIG, maxStopsPerUserMarket: 3 }).maxStopsPerUserMarket).to.equal(3);
  });

  it('a lowered bound refuses what follows and leaves what already rests or waits; a raised one lets more in', () => {
    const h = new Harness({ ...CONFIG, maxOpenOrdersPerUserMarket: 3, maxStopsPerUserMarket: 2 });
    accepted(h.deposit('ann', 'USD', '100000'));
    accepted(h.deposit('ann', 'SOL', '100'));
    for (const price of ['10', '11', '12']) placed(h.limit('ann', 'SOL-USD', 'buy', price, '1'));
    placed(h.stopLimit('ann', 'SOL-USD', 'sell', '5', '4', '1'));
    placed(h.stopLimit('ann', 'SOL-USD', 'sell', '6', '5', '1'));
    const value = accepted(configure(h, { maxOpenOrdersPerUserMarket: 1, maxStopsPerUserMarket: 1 })).value;
    expect(value).to.deep.include({ kind: 'configured' });
    expect(value.kind === 'configured' && value.previous.maxOpenOrdersPerUserMarket).to.equal(3);
    expect(h.engine.limits()).to.include({ maxOpenOrdersPerUserMarket: 1, maxStopsPerUserMarket: 1 });
    expect(h.engine.listOrders('ann', { openOnly: true, limit: 10 })).to.have.length(5);
    expect(rejected(h.limit('ann', 'SOL-USD', 'buy', '13', '1'))).to.include(TOO_MANY_OPEN);
    expect(rejected(h.stopLimit('ann', 'SOL-USD', 'sell', '7', '6', '1'))).to.include({ field: 'stop_price' });
    accepted(configure(h, { maxOpenOrdersPerUserMarket: 4 }));
    placed(h.limit('ann', 'SOL-USD', 'buy', '13', '1'));
    expect(rejected(h.limit('ann', 'SOL-USD', 'buy', '14', '1'))).to.include(TOO_MANY_OPEN);
  });

  it('refuses a limit that is not a non-negative integer, naming it, and changes nothing', () => {
    const h = new Harness();
    accepted(h.deposit('ann', 'USD', '100'));
    const hash = h.engine.stateHash();
    for (const wrong of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(rejected(configure(h, { fillsRetainedPerUser: wrong }))).to.include({ code: 'INVALID_ARGUMENT', field: 'fillsRetainedPerUser' });
    }
    expect(h.engine.stateHash()).to.equal(hash);
    expect(h.engine.limits()).to.deep.equal(limitsOf(CONFIG));
  });

  it('a lowered retention forgets at once the oldest closed orders, client order ids and request ids beyond it', () => {
    const h = new Harness({ ...CONFIG, closedOrdersRetainedPerUser: 3 });
    accepted(h.send({ kind: 'deposit', userId: 'ann', asset: 'USD', amount: 100n, requestId: 'd1' }));
    accepted(h.send({ kind: 'deposit', userId: 'ann', asset: 'USD', amount: 100n, requestId: 'd2' }));
    accepted(h.deposit('ann', 'USD', '1000'));
    accepted(h.send({ kind: 'withdraw', userId: 'ann', asset: 'USD', amount: 1n, requestId: 'w1', adminId: 'admin', reference: 'r' }));
    accepted(h.send({ kind: 'withdraw', userId: 'ann', asset: 'USD', amount: 1n, requestId: 'w2', adminId: 'admin', reference: 'r' }));
    const ids = ['a', 'b', 'c'].map((id) => placed(h.limit('ann', 'SOL-USD', 'buy', '1', '1', { timeInForce: 'IOC', clientOrderId: id })).order.orderId);
    accepted(configure(h, { closedOrdersRetainedPerUser: 1 }));
    expect(ids.map((id) => h.engine.getOrder('ann', id)?.orderId)).to.deep.equal([undefined, undefined, ids[2]]);
    // "a" is free again: a new order, not a retry. "c" is still a retry.
    expect(placed(h.limit('ann', 'SOL-USD', 'buy', '2', '1', { clientOrderId: 'a' })).order.orderId).to.not.equal(ids[0]);
    expect(placed(h.limit('ann', 'SOL-USD', 'buy', '1', '1', { timeInForce: 'IOC', clientOrderId: 'c' })).order.orderId).to.equal(ids[2]);
    // Of the request ids, only the last deposit's and withdrawal's are kept.
    const usd = () => h.balance('ann', 'USD').available;
    let before = usd();
    accepted(h.send({ kind: 'deposit', userId: 'ann', asset: 'USD', amount: 100n, requestId: 'd2' }));
    expect(usd()).to.equal(before);
    accepted(h.send({ kind: 'deposit', userId: 'ann', asset: 'USD', amount: 100n, requestId: 'd1' }));
    expect(usd()).to.equal(before + 100n);
    before = usd();
    accepted(h.send({ kind: 'withdraw', userId: 'ann', asset: 'USD', amount: 1n, requestId: 'w1', adminId: 'admin', reference: 'r' }));
    expect(usd()).to.equal(before - 1n);
    // Raised again, nothing forgotten comes back; what follows is kept up to the new bound.
    accepted(configure(h, { closedOrdersRetainedPerUser: 10 }));
    expect(h.engine.getOrder('ann', ids[1]!)).to.equal(undefined);
    placed(h.limit('ann', 'SOL-USD', 'buy', '1', '1', { timeInForce: 'IOC' }));
    expect(h.engine.listOrders('ann', { openOnly: false, limit: 20 }).filter((o) => o.status === 'cancelled')).to.have.length(2);
  });

  it('a lowered history keeps the newest fills and trades; a raised one keeps what there is and more from then on', () => {
    const h = new Harness();
    for (const user of ['ann', 'bob']) for (const asset of ['USD', 'SOL']) accepted(h.deposit(user, asset, '1000'));
    const trade = () => {
      placed(h.limit('ann', 'SOL-USD', 'sell', '10', '1'));
      return placed(h.market('bob', 'SOL-USD', 'buy', '1')).trades[0]!.tradeId;
    };
    const tradeIds = [trade(), trade(), trade(), trade()];
    accepted(configure(h, { fillsRetainedPerUser: 2, tradesRetainedPerMarket: 3 }));
    const fills = () => h.engine.listFills('bob', { limit: 100 }).map((f) => f.tradeId);
    const trades = () => h.engine.recentTrades('SOL-USD', 100)!.map((t) => t.tradeId);
    expect(fills()).to.deep.equal([tradeIds[3], tradeIds[2]]);
    expect(trades()).to.deep.equal([tradeIds[3], tradeIds[2], tradeIds[1]]);
    accepted(configure(h, { fillsRetainedPerUser: 3, tradesRetainedPerMarket: 0 }));
    const next = trade();
    expect(fills()).to.deep.equal([next, tradeIds[3], tradeIds[2]]);
    expect(trades()).to.deep.equal([]);
    expect(h.engine.ticker('SOL-USD', h.now())!.lastPrice).to.equal(10_000_000n);
  });

  it('are in the snapshot (LIMT) once configured, and restore whatever the config says; a snapshot without them takes the config\'s', () => {
    const h = new Harness();
    accepted(h.deposit('ann', 'USD', '1000'));
    const before = h.engine.snapshot();
    expect(readSections(before).has('LIMT')).to.equal(false);
    // Before any configure command the state hashes as before the section existed: the config's limits do not count.
    expect(new Engine({ ...CONFIG, maxStopsPerUserMarket: 5 }).stateHash()).to.equal(new Engine(CONFIG).stateHash());
    expect(Engine.restore({ ...CONFIG, maxOpenOrdersPerUserMarket: 7 }, before).limits().maxOpenOrdersPerUserMarket).to.equal(7);

    const hashUnconfigured = h.engine.stateHash();
    accepted(configure(h, { maxOpenOrdersPerUserMarket: 2, closedOrdersRetainedPerUser: 5 }));
    expect(h.engine.stateHash()).to.not.equal(hashUnconfigured);
    const after = h.engine.snapshot();
    expect(readSections(after).get('LIMT')).to.have.length(40);
    const restored = Engine.restore({ ...CONFIG, maxOpenOrdersPerUserMarket: 9, closedOrdersRetainedPerUser: 1 }, after);
    expect(restored.limits()).to.deep.equal(h.engine.limits());
    expect(restored.stateHash()).to.equal(h.engine.stateHash());
    expect(restored.snapshot()).to.deep.equal(after);
    // The limits restored first bound what follows: five closed orders restore where the config alone allows one.
    for (let i = 0; i < 5; i++) placed(h.limit('ann', 'SOL-USD', 'buy', '1', '1', { timeInForce: 'IOC' }));
    expect(() => Engine.restore({ ...CONFIG, closedOrdersRetainedPerUser: 1 }, h.engine.snapshot())).to.not.throw();
  });

  it('refuses a snapshot whose limits are not counts, or not all of them', () => {
    const h = new Harness();
    accepted(configure(h, { maxStopsPerUserMarket: 4 }));
    const bytes = h.engine.snapshot();
    expect(() => Engine.restore(CONFIG, withLimits(bytes, [1000, 100, 1000, -1, 10_000]))).to.throw(SnapshotInvalidError, 'limit maxStopsPerUserMarket is -1');
    expect(() => Engine.restore(CONFIG, withLimits(bytes, [1000, 100, 1000, 4]))).to.throw(SnapshotInvalidError, 'LIMT');
    expect(Engine.restore(CONFIG, withLimits(bytes, [1000, 100, 1000, 4, 10_000])).limits().maxStopsPerUserMarket).to.equal(4);
  });

  it('a replay applies each change at its seq: the same state whatever the config it starts from, from the start or a snapshot', () => {
    const h = new Harness({ ...CONFIG, maxOpenOrdersPerUserMarket: 2 });
    accepted(h.deposit('ann', 'USD', '100000'));
    placed(h.limit('ann', 'SOL-USD', 'buy', '10', '1'));
    placed(h.limit('ann', 'SOL-USD', 'buy', '11', '1'));
    accepted(configure(h, { maxOpenOrdersPerUserMarket: 1 }));
    const middle = h.engine.snapshot();
    const at = h.log.length;
    rejected(h.limit('ann', 'SOL-USD', 'buy', '12', '1'));
    accepted(configure(h, { maxOpenOrdersPerUserMarket: 4 }));
    placed(h.limit('ann', 'SOL-USD', 'buy', '12', '1'));
    const fromStart = new Engine({ ...CONFIG, maxOpenOrdersPerUserMarket: 2 });
    for (const cmd of h.log) fromStart.apply(cmd);
    const fromSnapshot = Engine.restore({ ...CONFIG, maxOpenOrdersPerUserMarket: 100 }, middle);
    for (const cmd of h.log.slice(at)) fromSnapshot.apply(cmd);
    for (const engine of [fromStart, fromSnapshot]) {
      expect(engine.stateHash()).to.equal(h.engine.stateHash());
      expect(engine.listOrders('ann', { openOnly: true, limit: 10 })).to.have.length(3);
    }
  });
});
