import { expect } from 'chai';
import { BalanceFaultError, Engine } from '../src/index';
import { Balances } from '../src/balances';
import type { EngineState } from '../src/state';
import { Harness } from './harness';

/** A book with one resting buy of 1 BTC at 100 by ann (locking 100 USD), and bob holding 1 BTC. */
function restingBuy(): Harness {
  const h = new Harness();
  h.deposit('ann', 'USD', '100');
  h.deposit('bob', 'BTC', '1');
  h.limit('ann', 'BTC-USD', 'buy', '100', '1');
  return h;
}

/**
 * The harness's engine after `edit` changed its state directly: state no command can reach (and
 * that a snapshot holding it would be refused for).
 */
function doctored(h: Harness, edit: (state: EngineState) => void): Engine {
  edit((h.engine as unknown as { state: EngineState }).state);
  return h.engine;
}

function setUsd(state: EngineState, userId: string, available: bigint, locked: bigint): void {
  const ref = state.balances.ref(state.accounts.get(userId)!.index, state.assetIndex.get('USD')!);
  state.balances.restore(ref, available, locked);
}

const sell = { kind: 'placeLimit', seq: 4, timestamp: 1, orderId: 2, userId: 'bob', market: 'BTC-USD', side: 'sell', price: 100_000_000n,
  quantity: 100_000_000n, timeInForce: 'GTC', postOnly: false, selfTradePrevention: 'cancel_resting' } as const;

describe('balance faults: a subtraction that would wrap stops the engine instead', () => {
  it('Balances refuses to lock, release or pay more than a balance holds, and changes nothing', () => {
    const balances = new Balances(['BTC', 'USD']);
    balances.addAccount(0);
    const usd = balances.ref(0, 1);
    balances.deposit(usd, 100n);
    expect(() => balances.lock(usd, 101n)).to.throw(BalanceFaultError, "lock from account #0's USD: taking 101 from 100 would go below zero");
    expect(() => balances.lock(usd, 101n)).to.throw().with.property('name', 'BalanceFaultError');
    balances.lock(usd, 100n);
    expect([balances.available(usd), balances.locked(usd)]).to.deep.equal([0n, 100n]);
    expect(() => balances.release(usd, 101n)).to.throw(BalanceFaultError, "release from account #0's USD: taking 101 from 100");
    expect(() => balances.spendLocked(usd, 101n)).to.throw(BalanceFaultError, "fill payment from account #0's USD: taking 101 from 100");
    expect([balances.available(usd), balances.locked(usd)]).to.deep.equal([0n, 100n]);
    balances.spendLocked(usd, 100n);
    balances.release(usd, 0n);
    expect([balances.available(usd), balances.locked(usd)]).to.deep.equal([0n, 0n]);
  });

  it('a fill whose buyer has less locked than its order reserves is a fault, not a wrapped balance', () => {
    const engine = doctored(restingBuy(), (s) => setUsd(s, 'ann', 100n, 0n));
    expect(() => engine.apply(sell)).to.throw(BalanceFaultError, "fill payment from account #0's USD: taking 10000000000 from 0");
  });

  it("a fill that pays more than the order's own lock is a fault", () => {
    const engine = doctored(restingBuy(), (s) => s.store.setLocked(s.orders.get(1), 1));
    expect(() => engine.apply(sell)).to.throw(BalanceFaultError, 'fill payment from order 1\'s lock: taking 10000000000 from 1');
  });

  it('a cancel releasing more than the account has locked is a fault', () => {
    const engine = doctored(restingBuy(), (s) => setUsd(s, 'ann', 0n, 5n));
    expect(() => engine.apply({ kind: 'cancel', seq: 4, timestamp: 1, userId: 'ann', orderId: 1 })).to.throw(
      BalanceFaultError,
      "release from account #0's USD: taking 10000000000 from 5",
    );
  });
});
