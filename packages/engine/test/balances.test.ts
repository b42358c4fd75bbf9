import { expect } from 'chai';
import fc from 'fast-check';
import { Balances } from '../src/balances';
import { BalanceFaultError, MAX_UNITS } from '../src/index';

describe('balances table', () => {
  it('grows for any number of accounts, keeping every balance apart', () => {
    const balances = new Balances(['BTC', 'USD', 'ETH']);
    const accounts = 500;
    for (let a = 0; a < accounts; a++) {
      balances.addAccount(a);
      for (let asset = 0; asset < 3; asset++) balances.deposit(balances.ref(a, asset), BigInt(a * 3 + asset + 1));
      balances.lock(balances.ref(a, 1), 1);
    }
    for (let a = 0; a < accounts; a++) {
      for (let asset = 0; asset < 3; asset++) {
        const ref = balances.ref(a, asset);
        const held = BigInt(a * 3 + asset + 1);
        expect([balances.available(ref), balances.locked(ref)], `account ${a} asset ${asset}`).to.deep.equal(asset === 1 ? [held - 1n, 1n] : [held, 0n]);
        expect(balances.accountIndexOf(ref)).to.equal(a);
      }
    }
  });

  it('makes room for an account far past the last one in one step', () => {
    const balances = new Balances(['BTC', 'USD', 'ETH']);
    balances.addAccount(999);
    for (let asset = 0; asset < 3; asset++) balances.deposit(balances.ref(999, asset), BigInt(asset + 1));
    balances.lock(balances.ref(999, 2), 2);
    expect([0, 1, 2].map((asset) => [balances.available(balances.ref(999, asset)), balances.locked(balances.ref(999, asset))])).to.deep.equal([
      [1n, 0n], [2n, 0n], [1n, 2n],
    ]);
    expect(balances.available(balances.ref(998, 2))).to.equal(0n);
  });

  it('counts restored balances, available and locked, in the supply that bounds deposits', () => {
    const balances = new Balances(['USD']);
    balances.addAccount(0);
    balances.addAccount(1);
    balances.restore(balances.ref(0, 0), 10n, 5n);
    balances.restore(balances.ref(1, 0), 7n, 3n);
    expect(balances.canDeposit(0, MAX_UNITS - 25n)).to.equal(true);
    expect(balances.canDeposit(0, MAX_UNITS - 24n)).to.equal(false);
  });

  it('moves amounts up to 2^53-1 exactly at any u64 balance (carries and borrows across the two words), as bigint arithmetic would', () => {
    // Balances near 0, 2^32, 2^53 and 2^64-1, where a word carries or borrows or the u64 would wrap.
    const edge = fc.oneof(
      fc.bigInt({ min: 0n, max: 2n ** 33n }),
      fc.bigInt({ min: 2n ** 32n - 2n ** 20n, max: 2n ** 32n + 2n ** 20n }),
      fc.bigInt({ min: 2n ** 53n - 2n ** 20n, max: 2n ** 53n + 2n ** 20n }),
      fc.bigInt({ min: MAX_UNITS - 2n ** 54n, max: MAX_UNITS }),
      fc.bigInt({ min: 0n, max: MAX_UNITS }),
    );
    const amount = fc.oneof(fc.integer({ min: 0, max: 2 ** 33 }), fc.integer({ min: 2 ** 53 - 2 ** 33, max: Number.MAX_SAFE_INTEGER }), fc.maxSafeNat());
    const move = fc.constantFrom('lock', 'release', 'spendLocked', 'credit', 'debit');
    fc.assert(
      fc.property(edge, edge, fc.array(fc.tuple(move, amount), { maxLength: 20 }), (available, locked, moves) => {
        const balances = new Balances(['USD']);
        balances.addAccount(0);
        const ref = balances.ref(0, 0);
        balances.restore(ref, available, locked);
        let [a, l] = [available, locked];
        for (const [op, n] of moves) {
          const x = BigInt(n);
          const [na, nl] =
            op === 'lock' ? [a - x, l + x] : op === 'release' ? [a + x, l - x] : op === 'spendLocked' ? [a, l - x] : op === 'credit' ? [a + x, l] : [a - x, l];
          const faults = na < 0n || nl < 0n || na > MAX_UNITS || nl > MAX_UNITS;
          if (faults) expect(() => balances[op](ref, n)).to.throw(BalanceFaultError);
          else {
            balances[op](ref, n);
            [a, l] = [na, nl];
          }
          expect([balances.available(ref), balances.locked(ref)]).to.deep.equal([a, l]);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
