import { expect } from 'chai';
import { Engine } from '../src/index';
import { readSections } from '../src/snapshot';
import { STOP_TRIGGERS_PER_COMMAND, stopMarketBuyLockPrice } from '../src/stops';
import { accepted, amt, CONFIG, Harness, placed, px, qty, rejected } from './harness';

/** ann and bob funded; bob sells 10 SOL at 100, 101, 102 (orders 1-3). */
function market(config = CONFIG): Harness {
  const h = new Harness(config);
  for (const u of ['ann', 'bob', 'cid']) for (const asset of ['USD', 'SOL']) accepted(h.deposit(u, asset, '100000'));
  for (const price of ['100', '101', '102']) placed(h.limit('bob', 'SOL-USD', 'sell', price, '10'));
  return h;
}

function ocoOf(result: ReturnType<Harness['oco']>) {
  const r = accepted(result);
  if (r.value.kind !== 'placedOco') throw new Error(`expected an OCO placement, got ${r.value.kind}`);
  return { ...r.value, events: r.events };
}

describe('engine: stop orders', () => {
  it('a stop-limit waits off the book, untriggered, locking what its limit order locks', () => {
    const h = market();
    const r = placed(h.stopLimit('ann', 'SOL-USD', 'buy', '101', '103', '2'));
    expect(r.order).to.include({ status: 'untriggered', stopPrice: px('101'), price: px('103'), locked: amt('206'), type: 'limit' });
    expect(r.trades).to.deep.equal([]);
    expect(h.engine.depth('SOL-USD', 10)!.bids).to.deep.equal([]);
    expect(h.balance('ann', 'USD')).to.deep.equal({ available: amt('99794'), locked: amt('206') });
    expect(h.engine.listOrders('ann', { openOnly: true, limit: 10 }).map((o) => o.status)).to.deep.equal(['untriggered']);
  });

  it('a buy stop triggers on a later trade at or above its stop price, and executes as its limit order', () => {
    const h = market();
    const stop = placed(h.stopLimit('ann', 'SOL-USD', 'buy', '100', '101', '15')).order.orderId;
    const r = placed(h.market('cid', 'SOL-USD', 'buy', '1'));
    expect(r.trades.map((t) => t.price)).to.deep.equal([px('100')]);
    const events = r.events.filter((e) => e.type === 'orderUpdated' && e.order.orderId === stop).map((e) => e.type === 'orderUpdated' && e.order.status);
    expect(events).to.deep.equal(['open', 'partially_filled', 'filled']);
    expect(h.engine.getOrder('ann', stop)).to.include({ status: 'filled', filled: qty('15'), stopPrice: px('100'), locked: 0n });
    // 9 @ 100 + 6 @ 101 = 1,506
    expect(h.balance('ann', 'USD')).to.deep.equal({ available: amt('98494'), locked: 0n });
  });

  it('a sell stop triggers at or below, not above; trades before its entry do not count', () => {
    const h = market();
    placed(h.limit('cid', 'SOL-USD', 'buy', '90', '5'));
    placed(h.market('ann', 'SOL-USD', 'sell', '1'));
    const stop = placed(h.stopMarket('ann', 'SOL-USD', 'sell', '90', '2')).order.orderId;
    expect(h.engine.getOrder('ann', stop)!.status).to.equal('untriggered');
    placed(h.market('cid', 'SOL-USD', 'buy', '1'));
    expect(h.engine.getOrder('ann', stop)!.status).to.equal('untriggered');
    placed(h.market('bob', 'SOL-USD', 'sell', '1'));
    expect(h.engine.getOrder('ann', stop)).to.include({ status: 'filled', filled: qty('2'), type: 'market', stopPrice: px('90') });
  });

  it('triggers in order: buy stops lowest first, then by arrival', () => {
    const h = market();
    const first = placed(h.stopMarket('ann', 'SOL-USD', 'buy', '100', '1')).order.orderId;
    const second = placed(h.stopMarket('cid', 'SOL-USD', 'buy', '100', '1')).order.orderId;
    const lowest = placed(h.stopMarket('ann', 'SOL-USD', 'buy', '99', '1')).order.orderId;
    const beyond = placed(h.stopMarket('ann', 'SOL-USD', 'buy', '100.5', '1')).order.orderId;
    const r = placed(h.market('cid', 'SOL-USD', 'buy', '1'));
    const triggered = r.events.filter((e) => e.type === 'trade').map((e) => e.type === 'trade' && e.trade.takerOrderId);
    expect(triggered).to.deep.equal([r.order.orderId, lowest, first, second]);
    expect(h.engine.getOrder('ann', beyond)!.status).to.equal('untriggered');
  });

  it('cascades: a triggered stop\'s trades trigger more, in rounds', () => {
    const h = market();
    const a = placed(h.stopMarket('ann', 'SOL-USD', 'buy', '100', '10')).order.orderId; // takes the rest at 100, prints 101
    const b = placed(h.stopMarket('cid', 'SOL-USD', 'buy', '101', '1')).order.orderId;
    placed(h.market('cid', 'SOL-USD', 'buy', '1'));
    expect(h.engine.getOrder('ann', a)!.status).to.equal('filled');
    expect(h.engine.getOrder('cid', b)).to.include({ status: 'filled', filled: qty('1') });
  });

  it('reports a level emptied, made anew by a triggered stop and emptied again in one command by one bookLevel event', () => {
    const h = market();
    placed(h.stopMarket('ann', 'SOL-USD', 'buy', '100', '1')); // round 1: takes 1 at 101 once 100 is gone
    placed(h.stopLimit('bob', 'SOL-USD', 'sell', '100', '100', '2')); // round 1: rests at 100 anew
    placed(h.stopMarket('cid', 'SOL-USD', 'buy', '101', '2')); // round 2, on the print at 101: takes both at 100
    const r = placed(h.market('cid', 'SOL-USD', 'buy', '10'));
    const at100 = r.events.filter((e) => e.type === 'bookLevel' && e.side === 'sell' && e.price === px('100'));
    expect(at100).to.have.length(1);
    expect(at100[0]).to.include({ quantity: 0n, orderCount: 0 });
    expect(h.engine.depth('SOL-USD', 10)!.asks.map((l) => l.price)).to.deep.equal([px('101'), px('102')]);
  });

  it(`triggers at most ${STOP_TRIGGERS_PER_COMMAND} stops in one command; the rest wait for the next trade that reaches them`, () => {
    const h = market();
    const stops: number[] = [];
    for (let i = 0; i <= STOP_TRIGGERS_PER_COMMAND; i++) stops.push(placed(h.stopLimit('ann', 'SOL-USD', 'buy', '100', '1', '0.001')).order.orderId);
    placed(h.market('cid', 'SOL-USD', 'buy', '1'));
    const status = (id: number) => h.engine.getOrder('ann', id)!.status;
    expect(stops.slice(0, -1).map(status).every((s) => s === 'open')).to.equal(true);
    expect(status(stops.at(-1)!)).to.equal('untriggered');
    placed(h.market('cid', 'SOL-USD', 'buy', '1'));
    expect(status(stops.at(-1)!)).to.equal('open');
  });

  it('a triggered stop-market that cannot fill completely is cancelled (ioc), its funds released', () => {
    const h = market();
    const stop = placed(h.stopMarket('ann', 'SOL-USD', 'sell', '100', '5')).order.orderId;
    expect(h.balance('ann', 'SOL')).to.deep.equal({ available: qty('99995'), locked: qty('5') });
    placed(h.market('cid', 'SOL-USD', 'buy', '1'));
    expect(h.engine.getOrder('ann', stop)).to.include({ status: 'cancelled', cancelReason: 'ioc', filled: 0n, locked: 0n });
    expect(h.balance('ann', 'SOL')).to.deep.equal({ available: qty('100000'), locked: 0n });
  });

  it('a stop-market buy locks its cost at the stop price plus a tenth, and fills only within it', () => {
    expect(stopMarketBuyLockPrice(Number(px('100')))).to.equal(Number(px('110')));
    expect(stopMarketBuyLockPrice(1)).to.equal(2);
    const h = market();
    const r = placed(h.stopMarket('ann', 'SOL-USD', 'buy', '100', '2'));
    expect(r.order.locked).to.equal(amt('220'));
    placed(h.market('cid', 'SOL-USD', 'buy', '1'));
    expect(h.engine.getOrder('ann', r.order.orderId)).to.include({ status: 'filled', locked: 0n });
    expect(h.balance('ann', 'USD')).to.deep.equal({ available: amt('99800'), locked: 0n });
  });

  it('a triggered stop-market buy whose fills would cost more than its lock is cancelled (ioc)', () => {
    const h = new Harness();
    for (const u of ['ann', 'bob', 'cid']) for (const asset of ['USD', 'SOL']) accepted(h.deposit(u, asset, '1000'));
    placed(h.limit('bob', 'SOL-USD', 'sell', '100', '1'));
    placed(h.limit('bob', 'SOL-USD', 'sell', '200', '5'));
    const stop = placed(h.stopMarket('ann', 'SOL-USD', 'buy', '100', '1')).order;
    expect(stop.locked).to.equal(amt('110'));
    placed(h.market('cid', 'SOL-USD', 'buy', '1'));
    expect(h.engine.getOrder('ann', stop.orderId)).to.include({ status: 'cancelled', cancelReason: 'ioc', filled: 0n, locked: 0n });
    expect(h.balance('ann', 'USD')).to.deep.equal({ available: amt('1000'), locked: 0n });
  });

  it('a stop-limit IOC cancels what it cannot fill once triggered; a GTC one rests', () => {
    const h = market();
    const ioc = placed(h.stopLimit('ann', 'SOL-USD', 'buy', '100', '100', '20', { timeInForce: 'IOC' })).order.orderId;
    placed(h.market('cid', 'SOL-USD', 'buy', '1'));
    expect(h.engine.getOrder('ann', ioc)).to.include({ status: 'cancelled', cancelReason: 'ioc', filled: qty('9') });
    const gtc = placed(h.stopLimit('ann', 'SOL-USD', 'buy', '100', '100', '20')).order.orderId;
    placed(h.market('cid', 'SOL-USD', 'buy', '1'));
    expect(h.engine.getOrder('ann', gtc)).to.include({ status: 'open', filled: 0n });
    expect(h.engine.depth('SOL-USD', 1)!.bids).to.deep.equal([{ price: px('100'), quantity: qty('20'), orderCount: 1 }]);
  });

  it('is cancellable while waiting, alone or by cancelAll, and not amendable', () => {
    const h = market();
    const a = placed(h.stopLimit('ann', 'SOL-USD', 'buy', '100', '101', '1')).order.orderId;
    const b = placed(h.stopMarket('ann', 'SOL-USD', 'sell', '90', '1')).order.orderId;
    expect(rejected(h.amend('ann', a, { price: '99' }))).to.deep.include({ code: 'FAILED_PRECONDITION', field: 'stop_price' });
    const c = accepted(h.cancel('ann', a));
    expect(c.value).to.include({ kind: 'cancelled', releasedAsset: 'USD', releasedAmount: amt('101') });
    accepted(h.send({ kind: 'cancelAll', userId: 'ann' }));
    expect(h.engine.getOrder('ann', b)).to.include({ status: 'cancelled', cancelReason: 'user' });
    placed(h.market('cid', 'SOL-USD', 'buy', '1'));
    expect(h.balance('ann', 'USD')).to.deep.equal({ available: amt('100000'), locked: 0n });
    expect(h.balance('ann', 'SOL')).to.deep.equal({ available: qty('100000'), locked: 0n });
  });

  it('refuses a stop past the bound on a user\'s waiting stops in a market, until one leaves; other users and markets are apart', () => {
    const h = market({ ...CONFIG, maxStopsPerUserMarket: 2 });
    const first = placed(h.stopLimit('ann', 'SOL-USD', 'buy', '105', '106', '1')).order.orderId;
    placed(h.stopMarket('ann', 'SOL-USD', 'sell', '90', '1'));
    const balance = h.balance('ann', 'USD');
    const tooMany = { code: 'FAILED_PRECONDITION', field: 'stop_price' };
    expect(rejected(h.stopLimit('ann', 'SOL-USD', 'buy', '104', '104', '1'))).to.include(tooMany);
    expect(rejected(h.stopMarket('ann', 'SOL-USD', 'buy', '104', '1'))).to.include(tooMany);
    expect(rejected(h.oco('ann', 'SOL-USD', 'buy', '50', '104', '1'))).to.include(tooMany);
    expect(h.balance('ann', 'USD')).to.deep.equal(balance);
    // Not a stop: not bounded. Another user, another market: their own bound.
    placed(h.limit('ann', 'SOL-USD', 'buy', '50', '1'));
    placed(h.stopLimit('cid', 'SOL-USD', 'buy', '104', '104', '1'));
    placed(h.stopLimit('ann', 'BTC-USD', 'buy', '104', '104', '1'));
    // A cancel frees a place, and so does a trigger; a snapshot keeps the count.
    accepted(h.cancel('ann', first));
    const pair = ocoOf(h.oco('ann', 'SOL-USD', 'buy', '50', '101', '1'));
    expect(rejected(h.stopLimit('ann', 'SOL-USD', 'buy', '104', '104', '1'))).to.include(tooMany);
    expect(rejected(Engine.restore(h.config, h.engine.snapshot()).apply({ ...h.log.at(-1)!, seq: h.engine.lastSeq() + 1 }))).to.include(tooMany);
    placed(h.market('cid', 'SOL-USD', 'buy', '11'));
    expect(h.engine.getOrder('ann', pair.stopOrder.orderId)).to.include({ status: 'filled' });
    placed(h.stopLimit('ann', 'SOL-USD', 'buy', '104', '104', '1'));
    expect(() => new Engine({ ...CONFIG, maxStopsPerUserMarket: -1 })).to.throw(/maxStopsPerUserMarket/);
  });

  it('rejects bad stop fields, naming them', () => {
    const h = market();
    const send = (stopPrice: bigint, o: { timeInForce?: 'FOK'; postOnly?: boolean } = {}) =>
      rejected(
        h.send({
          kind: 'placeLimit', orderId: h.nextOrderId++, userId: 'ann', market: 'SOL-USD', side: 'buy', price: px('1'), quantity: qty('1'),
          timeInForce: o.timeInForce ?? 'GTC', postOnly: o.postOnly ?? false, selfTradePrevention: 'cancel_resting', stopPrice,
        }),
      );
    expect(send(0n)).to.include({ code: 'INVALID_ARGUMENT', field: 'stop_price' });
    expect(send(-5n)).to.include({ code: 'INVALID_ARGUMENT', field: 'stop_price' });
    expect(send(10n ** 10_000n)).to.include({ code: 'INVALID_ARGUMENT', field: 'stop_price' });
    expect(send(px('1'), { timeInForce: 'FOK' })).to.include({ field: 'time_in_force' });
    expect(send(px('1'), { postOnly: true })).to.include({ field: 'post_only' });
    expect(rejected(h.stopMarket('ann', 'SOL-USD', 'buy', '0.000001', '100000000000'))).to.include({ code: 'INVALID_ARGUMENT', field: 'quantity' });
    expect(rejected(h.stopMarket('nobody', 'SOL-USD', 'sell', '1', '1')).code).to.equal('FAILED_PRECONDITION');
    // A stop price whose tenth more is past the bound on a price: even one unit would be locked inexactly.
    const highest = { kind: 'placeMarket', orderId: h.nextOrderId++, userId: 'ann', market: 'SOL-USD', side: 'buy', quantity: 1n, stopPrice: 2n ** 53n - 1n } as const;
    expect(rejected(h.send({ ...highest, selfTradePrevention: 'cancel_resting' }))).to.include({ code: 'INVALID_ARGUMENT', field: 'quantity' });
  });

  it('answers a retried stop placement with the order, and refuses a different stop price under its client order id', () => {
    const h = market();
    const first = placed(h.stopLimit('ann', 'SOL-USD', 'buy', '100', '101', '1', { clientOrderId: 's-1' }));
    const hash = h.engine.stateHash();
    expect(placed(h.stopLimit('ann', 'SOL-USD', 'buy', '100', '101', '1', { clientOrderId: 's-1' })).order).to.deep.equal(first.order);
    expect(h.engine.stateHash()).to.equal(hash);
    expect(rejected(h.stopLimit('ann', 'SOL-USD', 'buy', '99', '101', '1', { clientOrderId: 's-1' })).code).to.equal('ALREADY_EXISTS');
    expect(rejected(h.limit('ann', 'SOL-USD', 'buy', '101', '1', { clientOrderId: 's-1' })).code).to.equal('ALREADY_EXISTS');
  });

  it('snapshots waiting and triggered stops and pairs: restore gives the same hash, bytes and behaviour', () => {
    const build = (): Harness => {
      const h = market();
      placed(h.stopLimit('ann', 'SOL-USD', 'buy', '100', '101', '1', { clientOrderId: 'x' }));
      placed(h.stopMarket('cid', 'SOL-USD', 'sell', '95', '2'));
      placed(h.stopLimit('ann', 'SOL-USD', 'buy', '99', '100', '1'));
      ocoOf(h.oco('cid', 'SOL-USD', 'sell', '110', '90', '3', '89'));
      placed(h.stopLimit('cid', 'SOL-USD', 'buy', '105', '105', '1'));
      placed(h.market('cid', 'SOL-USD', 'buy', '1'));
      return h;
    };
    const h = build();
    const bytes = h.engine.snapshot();
    const restored = Engine.restore(CONFIG, bytes);
    expect(restored.stateHash()).to.equal(h.engine.stateHash());
    expect(restored.snapshot()).to.deep.equal(bytes);
    for (const user of ['ann', 'cid']) {
      expect(restored.listOrders(user, { openOnly: false, limit: 100 })).to.deep.equal(h.engine.listOrders(user, { openOnly: false, limit: 100 }));
    }
    const before = h.log.length;
    placed(h.limit('ann', 'SOL-USD', 'buy', '96', '3'));
    placed(h.limit('bob', 'SOL-USD', 'sell', '90', '4'));
    placed(h.market('ann', 'SOL-USD', 'buy', '5'));
    for (const cmd of h.log.slice(before)) restored.apply(cmd);
    expect(restored.stateHash()).to.equal(h.engine.stateHash());
    expect(restored.snapshot()).to.deep.equal(h.engine.snapshot());
  });

  it('leaves the state hash of a state that never had a stop as it was before stops existed', () => {
    const h = new Harness();
    for (const u of ['ann', 'bob']) for (const asset of ['USD', 'BTC']) h.deposit(u, asset, '1000');
    placed(h.limit('ann', 'BTC-USD', 'buy', '100', '1', { clientOrderId: 'a-1' }));
    placed(h.limit('bob', 'BTC-USD', 'sell', '100', '0.25'));
    placed(h.market('bob', 'BTC-USD', 'sell', '0.25'));
    placed(h.limit('ann', 'BTC-USD', 'buy', '99', '1', { clientOrderId: 'a-2' }));
    accepted(h.cancel('ann', 4));
    // No STOP section: stateHash covers the same sections as before stop orders existed.
    expect(readSections(h.engine.snapshot()).has('STOP')).to.equal(false);
    expect(h.engine.stateHash()).to.equal('b30cfb376ff4cd2c7d5c9269f09c71f29db648de7065840e57cd6b87a570b8c3');
  });
});

describe('engine: one-cancels-other pairs', () => {
  it('answers a retried pair (client order id) with both orders as they are now and the placement trades, placing nothing', () => {
    const h = market();
    const key = { clientOrderId: 'p-1' };
    const first = ocoOf(h.oco('ann', 'SOL-USD', 'buy', '100', '120', '3', '121', key));
    expect(first.trades).to.have.length(1);
    expect(first.order.clientOrderId).to.equal('p-1');
    expect(first.stopOrder).to.include({ status: 'cancelled', cancelReason: 'oco', clientOrderId: undefined });
    const hash = h.engine.stateHash();
    const retry = ocoOf(h.oco('ann', 'SOL-USD', 'buy', '100', '120', '3', '121', key));
    expect(retry.order).to.deep.equal(h.engine.getOrder('ann', first.order.orderId));
    expect(retry.stopOrder).to.deep.equal(first.stopOrder);
    expect(retry.trades).to.deep.equal(first.trades);
    expect(retry.events).to.deep.equal([]);
    expect(h.engine.stateHash()).to.equal(hash);
    // Cancelling by client order id reaches the limit order, and so the pair.
    const resting = ocoOf(h.oco('ann', 'SOL-USD', 'sell', '110', '90', '3', undefined, { clientOrderId: 'p-2' }));
    accepted(h.send({ kind: 'cancel', userId: 'ann', orderId: 0, clientOrderId: 'p-2' }));
    expect(h.engine.getOrder('ann', resting.order.orderId)).to.include({ status: 'cancelled', cancelReason: 'user' });
    expect(h.engine.getOrder('ann', resting.stopOrder.orderId)).to.include({ status: 'cancelled', cancelReason: 'oco' });
    expect(ocoOf(h.oco('ann', 'SOL-USD', 'sell', '110', '90', '3', undefined, { clientOrderId: 'p-2' })).stopOrder.status).to.equal('cancelled');
  });

  it('refuses another pair, a limit or a market order under a pair\'s client order id, and a pair under a single order\'s (ALREADY_EXISTS)', () => {
    const h = market();
    const pair = ocoOf(h.oco('ann', 'SOL-USD', 'sell', '110', '90', '3', undefined, { clientOrderId: 'p' }));
    const taken = { code: 'ALREADY_EXISTS', field: 'client_order_id', message: `client_order_id: "p" is already used by your order ${pair.order.orderId}, with other parameters` };
    for (const other of [
      h.oco('ann', 'SOL-USD', 'sell', '111', '90', '3', undefined, { clientOrderId: 'p' }),
      h.oco('ann', 'SOL-USD', 'sell', '110', '89', '3', undefined, { clientOrderId: 'p' }),
      h.oco('ann', 'SOL-USD', 'sell', '110', '90', '3', '89', { clientOrderId: 'p' }),
      h.oco('ann', 'SOL-USD', 'sell', '110', '90', '2', undefined, { clientOrderId: 'p' }),
      h.limit('ann', 'SOL-USD', 'sell', '110', '3', { clientOrderId: 'p' }),
      h.market('ann', 'SOL-USD', 'sell', '3', { clientOrderId: 'p' }),
    ]) {
      expect(rejected(other)).to.deep.include(taken);
    }
    const single = placed(h.limit('ann', 'SOL-USD', 'sell', '110', '3', { clientOrderId: 's' }));
    expect(rejected(h.oco('ann', 'SOL-USD', 'sell', '110', '90', '3', undefined, { clientOrderId: 's' }))).to.include({ code: 'ALREADY_EXISTS', field: 'client_order_id' });
    // Another user's id is their own.
    expect(ocoOf(h.oco('cid', 'SOL-USD', 'sell', '110', '90', '3', undefined, { clientOrderId: 's' })).order.orderId).to.be.above(single.order.orderId);
    expect(rejected(h.oco('ann', 'SOL-USD', 'sell', '110', '90', '3', undefined, { clientOrderId: 'x'.repeat(65) }))).to.include({ field: 'client_order_id' });
  });

  it('still answers with the stop order once it is no longer retained, as it ended; once the limit order is evicted, places anew', () => {
    const h = market({ ...CONFIG, closedOrdersRetainedPerUser: 0 });
    const key = { clientOrderId: 'p' };
    const first = ocoOf(h.oco('ann', 'SOL-USD', 'buy', '99', '120', '3', undefined, key));
    placed(h.market('bob', 'SOL-USD', 'sell', '1')); // fills 1 of the limit order: the stop is cancelled and, retaining none, freed
    expect(h.engine.getOrder('ann', first.stopOrder.orderId)).to.equal(undefined);
    const retry = ocoOf(h.oco('ann', 'SOL-USD', 'buy', '99', '120', '3', undefined, key));
    expect(retry.order).to.include({ orderId: first.order.orderId, status: 'partially_filled' });
    expect(retry.stopOrder).to.deep.equal({ ...first.stopOrder, status: 'cancelled', cancelReason: 'oco', locked: 0n, ocoOrderId: undefined, updatedAt: retry.stopOrder.updatedAt });
    expect(retry.stopOrder.updatedAt).to.be.above(first.stopOrder.updatedAt);
    // The snapshot keeps it (OCOR).
    const restored = Engine.restore(h.config, h.engine.snapshot());
    expect(restored.stateHash()).to.equal(h.engine.stateHash());
    expect(restored.snapshot()).to.deep.equal(h.engine.snapshot());
    accepted(h.cancel('ann', first.order.orderId));
    const again = ocoOf(h.oco('ann', 'SOL-USD', 'buy', '99', '120', '3', undefined, key));
    expect(again.order.orderId).to.be.above(first.stopOrder.orderId);
  });

  it('after a restore that keeps the stop of a pair only as it ended, evicts the limit order like the engine that never restarted', () => {
    const h = market({ ...CONFIG, closedOrdersRetainedPerUser: 0 });
    const first = ocoOf(h.oco('ann', 'SOL-USD', 'buy', '99', '120', '3', undefined, { clientOrderId: 'p' }));
    placed(h.market('bob', 'SOL-USD', 'sell', '1')); // the stop is cancelled and freed: the restored account keys no waiting stop
    const live = h.engine;
    h.engine = Engine.restore(h.config, live.snapshot());
    accepted(h.cancel('ann', first.order.orderId)); // closes and, retaining none, evicts the keyed limit order
    const restored = h.engine;
    h.engine = live;
    accepted(h.cancel('ann', first.order.orderId));
    expect(restored.stateHash()).to.equal(live.stateHash());
    expect(restored.getOrder('ann', first.order.orderId)).to.equal(undefined);
  });

  it('places a limit order and a waiting stop, each locking its own funds, linked to each other', () => {
    const h = market();
    const r = ocoOf(h.oco('ann', 'SOL-USD', 'sell', '110', '90', '3'));
    expect(r.order).to.include({ status: 'open', price: px('110'), locked: qty('3'), ocoOrderId: r.stopOrder.orderId });
    expect(r.stopOrder).to.include({ status: 'untriggered', type: 'market', stopPrice: px('90'), locked: qty('3'), ocoOrderId: r.order.orderId });
    expect(h.balance('ann', 'SOL')).to.deep.equal({ available: qty('99994'), locked: qty('6') });
  });

  it('a fill of the limit order, even partial, cancels the stop (oco)', () => {
    const h = market();
    const r = ocoOf(h.oco('ann', 'SOL-USD', 'buy', '99', '120', '3'));
    placed(h.market('bob', 'SOL-USD', 'sell', '1'));
    expect(h.engine.getOrder('ann', r.order.orderId)).to.include({ status: 'partially_filled', ocoOrderId: undefined });
    expect(h.engine.getOrder('ann', r.stopOrder.orderId)).to.include({ status: 'cancelled', cancelReason: 'oco', locked: 0n });
    expect(h.balance('ann', 'USD').locked).to.equal(amt('198'));
  });

  it('the trigger of the stop cancels the limit order (oco), then the stop executes', () => {
    const h = market();
    const r = ocoOf(h.oco('ann', 'SOL-USD', 'buy', '90', '100', '2', '100'));
    placed(h.market('cid', 'SOL-USD', 'buy', '1'));
    expect(h.engine.getOrder('ann', r.order.orderId)).to.include({ status: 'cancelled', cancelReason: 'oco' });
    expect(h.engine.getOrder('ann', r.stopOrder.orderId)).to.include({ status: 'filled', filled: qty('2') });
    expect(h.balance('ann', 'USD')).to.deep.equal({ available: amt('99800'), locked: 0n });
  });

  it('cancelling either order cancels the other; a limit order that trades on arrival cancels its stop at once', () => {
    const h = market();
    const r = ocoOf(h.oco('ann', 'SOL-USD', 'sell', '110', '90', '3'));
    accepted(h.cancel('ann', r.stopOrder.orderId));
    expect(h.engine.getOrder('ann', r.order.orderId)).to.include({ status: 'cancelled', cancelReason: 'oco' });
    expect(h.balance('ann', 'SOL')).to.deep.equal({ available: qty('100000'), locked: 0n });
    const crossing = ocoOf(h.oco('ann', 'SOL-USD', 'buy', '100', '120', '1'));
    expect(crossing.trades).to.have.length(1);
    expect(crossing.stopOrder).to.include({ status: 'cancelled', cancelReason: 'oco' });
  });

  it('cancelAll cancels both orders of a pair as the user\'s; neither may be amended', () => {
    const h = market();
    const r = ocoOf(h.oco('ann', 'SOL-USD', 'sell', '110', '90', '3'));
    expect(rejected(h.amend('ann', r.order.orderId, { price: '111' }))).to.include({ code: 'FAILED_PRECONDITION', field: 'oco_order_id' });
    const all = accepted(h.send({ kind: 'cancelAll', userId: 'ann' }));
    expect(all.value).to.deep.include({ count: 2, released: [{ asset: 'SOL', amount: qty('6') }] });
    expect(h.engine.getOrder('ann', r.order.orderId)!.cancelReason).to.equal('user');
    expect(h.engine.getOrder('ann', r.stopOrder.orderId)!.cancelReason).to.equal('user');
  });

  it('rejects a stop on the wrong side of the limit price, and funds short of both locks', () => {
    const h = market();
    expect(rejected(h.oco('ann', 'SOL-USD', 'sell', '90', '90', '1'))).to.include({ code: 'INVALID_ARGUMENT', field: 'stop_price' });
    expect(rejected(h.oco('ann', 'SOL-USD', 'buy', '90', '80', '1'))).to.include({ code: 'INVALID_ARGUMENT', field: 'stop_price' });
    expect(rejected(h.oco('ann', 'SOL-USD', 'sell', '110', '90', '60000')).code).to.equal('FAILED_PRECONDITION');
    expect(h.balance('ann', 'SOL')).to.deep.equal({ available: qty('100000'), locked: 0n });
  });
});
