import { expect } from 'chai';
import { BalanceFaultError, Engine, MAX_UNITS } from '../src/index';
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

/** 2^64-1 as a decimal string, as the fault messages print it. */
const MAX = '18446744073709551615';

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
    expect(() => balances.lock(usd, 101)).to.throw(BalanceFaultError, "lock from account #0's USD: taking 101 from 100 would go below zero");
    expect(() => balances.lock(usd, 101)).to.throw().with.property('name', 'BalanceFaultError');
    balances.lock(usd, 100);
    expect([balances.available(usd), balances.locked(usd)]).to.deep.equal([0n, 100n]);
    expect(() => balances.release(usd, 101)).to.throw(BalanceFaultError, "release from account #0's USD: taking 101 from 100");
    expect(() => balances.spendLocked(usd, 101)).to.throw(BalanceFaultError, "fill payment from account #0's USD: taking 101 from 100");
    expect([balances.available(usd), balances.locked(usd)]).to.deep.equal([0n, 100n]);
    balances.spendLocked(usd, 100);
    balances.release(usd, 0);
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

describe('balance faults: an addition that would wrap past 2^64-1 stops the engine instead', () => {
  /** One account's USD set straight to (available, locked), as a restored snapshot may set it. */
  function usdAt(available: bigint, locked: bigint) {
    const balances = new Balances(['BTC', 'USD']);
    balances.addAccount(0);
    const usd = balances.ref(0, 1);
    balances.restore(usd, available, locked);
    const held = (): [bigint, bigint] => [balances.available(usd), balances.locked(usd)];
    return { balances, usd, held };
  }

  it('credit and deposit add up to exactly 2^64-1 and refuse one unit more, changing nothing', () => {
    const { balances, usd, held } = usdAt(MAX_UNITS - 5n, 0n);
    balances.credit(usd, 5);
    expect(held()).to.deep.equal([MAX_UNITS, 0n]);
    expect(() => balances.credit(usd, 1)).to.throw(BalanceFaultError, `credit into account #0's USD: adding 1 to ${MAX} would go past 2^64-1`);
    expect(() => balances.deposit(usd, 1n)).to.throw(BalanceFaultError, `deposit into account #0's USD: adding 1 to ${MAX} would go past 2^64-1`);
    expect(held()).to.deep.equal([MAX_UNITS, 0n]);
    // The refused deposit did not count in the supply either (restored 2^64-6, credits move, not mint).
    expect(balances.canDeposit(1, 5n)).to.equal(true);
    expect(balances.canDeposit(1, 6n)).to.equal(false);
  });

  it('lock refuses to take locked past 2^64-1, release refuses to take available past it; both leave the balance as it was', () => {
    const locking = usdAt(3n, MAX_UNITS - 1n);
    locking.balances.lock(locking.usd, 1);
    expect(locking.held()).to.deep.equal([2n, MAX_UNITS]);
    expect(() => locking.balances.lock(locking.usd, 1)).to.throw(BalanceFaultError, `lock into account #0's USD: adding 1 to ${MAX} would go past 2^64-1`);
    expect(locking.held()).to.deep.equal([2n, MAX_UNITS]);

    const releasing = usdAt(MAX_UNITS - 1n, 3n);
    releasing.balances.release(releasing.usd, 1);
    expect(releasing.held()).to.deep.equal([MAX_UNITS, 2n]);
    expect(() => releasing.balances.release(releasing.usd, 1)).to.throw(BalanceFaultError, `release into account #0's USD: adding 1 to ${MAX} would go past 2^64-1`);
    expect(releasing.held()).to.deep.equal([MAX_UNITS, 2n]);
  });

  it("a fill whose seller's quote balance would pass 2^64-1 is a fault, not a wrapped balance", () => {
    // No command can get there (deposits keep each asset's supply within 2^64-1), nor a snapshot (restore
    // refuses a supply past it): the checked addition is the last line, for a state corrupted some other way.
    const engine = doctored(restingBuy(), (s) => setUsd(s, 'bob', MAX_UNITS - 10n, 0n));
    expect(() => engine.apply(sell)).to.throw(BalanceFaultError, `credit into account #1's USD: adding 10000000000 to ${MAX_UNITS - 10n} would go past 2^64-1`);
  });
});
