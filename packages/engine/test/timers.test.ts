import { expect } from 'chai';
import fc from 'fast-check';
import { Engine, MAX_GTD_MS, type CommandResult } from '../src/index';
import { DeadlineQueue } from '../src/timers';
import { accepted, amt, Harness, placed, px, qty, rejected } from './harness';

function expired(result: CommandResult) {
  const r = accepted(result);
  if (r.value.kind !== 'expired') throw new Error(`expected an expire result, got ${r.value.kind}`);
  return { ...r.value, events: r.events };
}

function funded(): Harness {
  const h = new Harness();
  for (const user of ['ann', 'bob']) {
    accepted(h.deposit(user, 'USD', '10000'));
    accepted(h.deposit(user, 'BTC', '10'));
  }
  return h;
}

describe('timers: good-till-date orders', () => {
  it('refuses an expiry that is missing, not after the placement, too far, or given without GTD, naming the field', () => {
    const h = funded();
    // Each refusal spends a seq and so moves the clock: every case is relative to its own command's time.
    const cases: [(now: number) => object, (now: number) => string][] = [
      [() => ({ timeInForce: 'GTD' }), () => 'is required with time_in_force GTD'],
      [(now) => ({ timeInForce: 'GTD', expireAt: now }), (now) => `must be after the time of placement (${now})`],
      [(now) => ({ timeInForce: 'GTD', expireAt: now - 1 }), (now) => `must be after the time of placement (${now})`],
      [() => ({ timeInForce: 'GTD', expireAt: 1.5 }), (now) => `must be after the time of placement (${now})`],
      [(now) => ({ timeInForce: 'GTD', expireAt: now + MAX_GTD_MS + 1 }), () => 'must be at most 90 days after the time of placement'],
      [(now) => ({ timeInForce: 'GTC', expireAt: now + 1000 }), () => 'only an order with time_in_force GTD expires'],
      [(now) => ({ timeInForce: 'IOC', expireAt: now + 1000 }), () => 'only an order with time_in_force GTD expires'],
    ];
    for (const [options, what] of cases) {
      const now = h.now();
      const error = rejected(h.limit('ann', 'BTC-USD', 'buy', '100', '1', options(now)));
      expect(error, JSON.stringify(options(now))).to.deep.equal({ code: 'INVALID_ARGUMENT', field: 'expire_at_unix_ms', message: `expire_at_unix_ms: ${what(now)}` });
    }
    placed(h.limit('ann', 'BTC-USD', 'buy', '100', '1', { timeInForce: 'GTD', expireAt: h.now() + MAX_GTD_MS }));
  });

  it('rests like GTC, shows its expiry, and is cancelled (expired) by the first timer command at or after it, releasing exactly its lock', () => {
    const h = funded();
    const expireAt = h.now() + 5_000;
    const order = placed(h.limit('ann', 'BTC-USD', 'buy', '100', '2', { timeInForce: 'GTD', expireAt, postOnly: true })).order;
    expect(order).to.include({ status: 'open', timeInForce: 'GTD', expireAt, locked: amt('200') });
    // Half of it trades: what stays locked is the rest's price.
    placed(h.limit('bob', 'BTC-USD', 'sell', '100', '0.5'));
    expect(h.balance('ann', 'USD')).to.deep.equal({ available: amt('9800'), locked: amt('150') });
    expect(h.engine.nextDeadline()).to.equal(expireAt);

    expect(expired(h.send({ kind: 'expire' }))).to.deep.equal({ kind: 'expired', expiredOrders: 0, deadManSwitches: 0, deadManOrders: 0, events: [] });
    h.advance(expireAt - h.now());
    const fired = expired(h.send({ kind: 'expire' }));
    expect(fired).to.include({ expiredOrders: 1, deadManSwitches: 0 });
    const view = h.engine.getOrder('ann', order.orderId)!;
    expect(view).to.include({ status: 'cancelled', cancelReason: 'expired', filled: qty('0.5'), locked: 0n, expireAt, updatedAt: expireAt });
    expect(fired.events.map((e) => e.type)).to.deep.equal(['orderUpdated', 'bookLevel', 'balance']);
    expect(h.balance('ann', 'USD')).to.deep.equal({ available: amt('9950'), locked: 0n });
    expect(h.engine.depth('BTC-USD', 10)!.bids).to.deep.equal([]);
    expect(h.engine.nextDeadline()).to.equal(Infinity);
  });

  it('leaves the timers when it closes otherwise: filled, cancelled, or trading away on arrival', () => {
    const h = funded();
    const expireAt = h.now() + 1_000;
    const gtd = { timeInForce: 'GTD' as const, expireAt };
    const cancelled = placed(h.limit('ann', 'BTC-USD', 'buy', '100', '1', gtd)).order.orderId;
    placed(h.limit('ann', 'BTC-USD', 'buy', '99', '1', gtd));
    expect(h.engine.nextDeadline()).to.equal(expireAt);
    accepted(h.cancel('ann', cancelled));
    placed(h.limit('bob', 'BTC-USD', 'sell', '99', '1'));
    expect(h.engine.nextDeadline()).to.equal(Infinity);
    // A GTD order that trades completely on arrival never waits for its expiry.
    placed(h.limit('bob', 'BTC-USD', 'sell', '101', '1'));
    expect(placed(h.limit('ann', 'BTC-USD', 'buy', '101', '1', gtd)).order.status).to.equal('filled');
    expect(h.engine.nextDeadline()).to.equal(Infinity);
  });

  it('keeps its expiry through an amendment, in place or moved', () => {
    const h = funded();
    const expireAt = h.now() + 1_000;
    const id = placed(h.limit('ann', 'BTC-USD', 'buy', '100', '2', { timeInForce: 'GTD', expireAt })).order.orderId;
    accepted(h.amend('ann', id, { quantity: '1' }));
    accepted(h.amend('ann', id, { price: '99' }));
    expect(h.engine.getOrder('ann', id)).to.include({ expireAt, timeInForce: 'GTD', price: px('99') });
    h.advance(1_000);
    expect(expired(h.send({ kind: 'expire' })).expiredOrders).to.equal(1);
  });

  it('expires due orders earliest first, then by id; a repeat of the placement is a retry only with the same expiry', () => {
    const h = funded();
    const t = h.now() + 100;
    for (const [price, at, id] of [['90', t + 2, 'a'], ['91', t + 1, 'b'], ['92', t + 1, 'c'], ['93', t + 50, 'd']] as const) {
      placed(h.limit('ann', 'BTC-USD', 'buy', price, '1', { timeInForce: 'GTD', expireAt: at, clientOrderId: id }));
    }
    expect(rejected(h.limit('ann', 'BTC-USD', 'buy', '90', '1', { timeInForce: 'GTD', expireAt: t + 3, clientOrderId: 'a' })).code).to.equal('ALREADY_EXISTS');
    expect(placed(h.limit('ann', 'BTC-USD', 'buy', '90', '1', { timeInForce: 'GTD', expireAt: t + 2, clientOrderId: 'a' })).order.clientOrderId).to.equal('a');
    h.advance(200);
    const fired = expired(h.send({ kind: 'expire' }));
    const cancelledIds = fired.events.flatMap((e) => (e.type === 'orderUpdated' ? [e.order.clientOrderId] : []));
    expect(cancelledIds).to.deep.equal(['b', 'c', 'a', 'd']);
  });
});

describe('timers: the dead-man switch', () => {
  it('arms, renews and disarms, answering when it fires; refuses timeouts out of bounds', () => {
    const h = funded();
    const arm = (timeoutSeconds: number) => accepted(h.send({ kind: 'cancelAllAfter', userId: 'ann', timeoutSeconds }));
    const now = h.now();
    expect(arm(60).value).to.deep.equal({ kind: 'cancelAllAfterSet', currentTime: now, triggerTime: now + 60_000 });
    expect(h.engine.deadManDeadline('ann')).to.equal(now + 60_000);
    const later = h.now();
    expect(arm(10).value).to.deep.equal({ kind: 'cancelAllAfterSet', currentTime: later, triggerTime: later + 10_000 });
    expect(h.engine.nextDeadline()).to.equal(later + 10_000);
    expect(arm(0).value).to.include({ triggerTime: undefined });
    expect([h.engine.deadManDeadline('ann'), h.engine.nextDeadline()]).to.deep.equal([undefined, Infinity]);
    for (const timeoutSeconds of [-1, 86_401, 1.5, Number.NaN]) {
      expect(rejected(h.send({ kind: 'cancelAllAfter', userId: 'ann', timeoutSeconds })).field).to.equal('timeout_seconds');
    }
    expect(rejected(h.send({ kind: 'cancelAllAfter', userId: '', timeoutSeconds: 5 })).field).to.equal('user_id');
    // Disarming a switch that was never armed, for a user the engine does not know, creates nothing.
    const hash = h.engine.stateHash();
    accepted(h.send({ kind: 'cancelAllAfter', userId: 'nobody', timeoutSeconds: 0 }));
    expect(h.engine.stateHash()).to.equal(hash);
  });

  it('cancels all of the user\'s open orders (dead_man) when it fires, placed before or after arming, and disarms', () => {
    const h = funded();
    const triggerTime = h.now() + 5_000;
    accepted(h.send({ kind: 'cancelAllAfter', userId: 'ann', timeoutSeconds: 5 }));
    const first = placed(h.limit('ann', 'BTC-USD', 'buy', '100', '1')).order.orderId;
    const second = placed(h.limit('ann', 'ETH-USD', 'buy', '100', '1', { timeInForce: 'GTD', expireAt: triggerTime + 10 })).order.orderId;
    const bobs = placed(h.limit('bob', 'BTC-USD', 'buy', '99', '1')).order.orderId;
    h.advance(triggerTime - h.now());
    const fired = expired(h.send({ kind: 'expire' }));
    expect(fired).to.include({ expiredOrders: 0, deadManSwitches: 1, deadManOrders: 2 });
    for (const id of [first, second]) expect(h.engine.getOrder('ann', id)).to.include({ status: 'cancelled', cancelReason: 'dead_man' });
    expect(h.engine.getOrder('bob', bobs)).to.include({ status: 'open' });
    expect(h.balance('ann', 'USD')).to.deep.equal({ available: amt('10000'), locked: 0n });
    // The GTD order it cancelled left the expiry queue with it: nothing more is due.
    expect([h.engine.deadManDeadline('ann'), h.engine.nextDeadline()]).to.deep.equal([undefined, Infinity]);
  });

  it('fires switches before expiries due at the same instant, switches by user id', () => {
    const h = funded();
    accepted(h.deposit('cy', 'USD', '1000'));
    const at = h.now() + 1_000;
    placed(h.limit('bob', 'BTC-USD', 'buy', '90', '1', { timeInForce: 'GTD', expireAt: at }));
    for (const user of ['cy', 'bob', 'ann']) placed(h.limit(user, 'BTC-USD', 'buy', '95', '1'));
    // Armed so that all three fall due at `at`.
    for (const user of ['cy', 'bob', 'ann']) {
      h.advance(at - 1_000 - h.now());
      accepted(h.send({ kind: 'cancelAllAfter', userId: user, timeoutSeconds: 1 }));
    }
    h.advance(at + 5 - h.now());
    const fired = expired(h.send({ kind: 'expire' }));
    const order = fired.events.flatMap((e) => (e.type === 'orderUpdated' ? [[e.order.userId, e.order.cancelReason]] : []));
    expect(order).to.deep.equal([['ann', 'dead_man'], ['bob', 'dead_man'], ['bob', 'dead_man'], ['cy', 'dead_man']]);
    expect(fired).to.include({ expiredOrders: 0, deadManSwitches: 3, deadManOrders: 4 });
  });
});

describe('timers: cancel on disconnect (cancelSession)', () => {
  it('cancels those of the ids that are the user\'s and open, oldest first, in one command; skips the rest', () => {
    const h = funded();
    const a = placed(h.limit('ann', 'BTC-USD', 'buy', '100', '1')).order.orderId;
    const b = placed(h.limit('ann', 'BTC-USD', 'buy', '99', '1')).order.orderId;
    const filled = placed(h.limit('ann', 'BTC-USD', 'sell', '200', '1')).order.orderId;
    placed(h.limit('bob', 'BTC-USD', 'buy', '200', '1'));
    const bobs = placed(h.limit('bob', 'BTC-USD', 'buy', '98', '1')).order.orderId;
    const result = accepted(h.send({ kind: 'cancelSession', userId: 'ann', orderIds: [b, bobs, filled, a, 999, b] }));
    expect(result.value).to.deep.equal({ kind: 'cancelledAll', count: 2, released: [{ asset: 'USD', amount: amt('199') }] });
    const cancelled = result.events.flatMap((e) => (e.type === 'orderUpdated' ? [[e.order.orderId, e.order.cancelReason]] : []));
    expect(cancelled).to.deep.equal([[a, 'disconnect'], [b, 'disconnect']]);
    expect(h.engine.getOrder('bob', bobs)).to.include({ status: 'open' });
    expect(rejected(h.send({ kind: 'cancelSession', userId: 'ann', orderIds: [0] })).field).to.equal('order_ids');
    expect(rejected(h.send({ kind: 'cancelSession', userId: 'ann', orderIds: [1.5] })).field).to.equal('order_ids');
    expect(accepted(h.send({ kind: 'cancelSession', userId: 'ann', orderIds: [] })).value).to.deep.equal({ kind: 'cancelledAll', count: 0, released: [] });
  });
});

describe('timers: snapshot and state hash', () => {
  it('keep expiries and switches across a restore (the same future), and count them in the state hash', () => {
    const h = funded();
    const hashBefore = h.engine.stateHash();
    const expireAt = h.now() + 2_000;
    const id = placed(h.limit('ann', 'BTC-USD', 'buy', '100', '1', { timeInForce: 'GTD', expireAt, clientOrderId: 'g' })).order.orderId;
    accepted(h.send({ kind: 'cancelAllAfter', userId: 'bob', timeoutSeconds: 3 }));
    expect(h.engine.stateHash()).to.not.equal(hashBefore);
    const restored = Engine.restore(h.config, h.engine.snapshot());
    expect(restored.stateHash()).to.equal(h.engine.stateHash());
    expect(restored.snapshot()).to.deep.equal(h.engine.snapshot());
    expect([restored.nextDeadline(), restored.deadManDeadline('bob'), restored.getOrder('ann', id)?.expireAt]).to.deep.equal([
      expireAt, h.engine.deadManDeadline('bob'), expireAt,
    ]);
    h.advance(5_000);
    const cmd = { kind: 'expire' as const, seq: h.engine.lastSeq() + 1, timestamp: h.now() };
    expect(restored.apply(cmd)).to.deep.equal(h.engine.apply(cmd));
    expect(restored.stateHash()).to.equal(h.engine.stateHash());
    // A closed GTD order keeps its expiry in the snapshot too.
    expect(Engine.restore(h.config, h.engine.snapshot()).getOrder('ann', id)).to.include({ expireAt, cancelReason: 'expired' });
  });

  it('a disarmed switch leaves the state hash as if it had never been armed', () => {
    const h = funded();
    placed(h.limit('ann', 'BTC-USD', 'buy', '100', '1'));
    const twin = funded();
    placed(twin.limit('ann', 'BTC-USD', 'buy', '100', '1'));
    accepted(h.send({ kind: 'cancelAllAfter', userId: 'ann', timeoutSeconds: 3 }));
    accepted(h.send({ kind: 'cancelAllAfter', userId: 'ann', timeoutSeconds: 0 }));
    expect(h.engine.stateHash()).to.equal(twin.engine.stateHash());
  });
});

describe('timers: the deadline queue', () => {
  it('gives the earliest deadline (ties by key) after any sequence of sets, replacements and deletes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.option(fc.integer({ min: 0, max: 50 }))), { maxLength: 200 }), (steps) => {
        const queue = new DeadlineQueue();
        const model = new Map<number, number>();
        for (const [key, deadline] of steps) {
          if (deadline === null) {
            queue.delete(key);
            model.delete(key);
          } else {
            queue.set(key, deadline);
            model.set(key, deadline);
          }
          const sorted = [...model].sort(([ka, a], [kb, b]) => a - b || ka - kb);
          expect(queue.size).to.equal(model.size);
          expect(queue.peekDeadline()).to.equal(sorted[0]?.[1] ?? Infinity);
          if (sorted.length > 0) expect(queue.peekKey()).to.equal(sorted[0]![0]);
          expect(queue.entries()).to.deep.equal([...model].sort(([a], [b]) => a - b));
        }
      }),
    );
  });
});
