import { expect } from 'chai';
import { Balances } from '../src/balances';
import { MAX_UNITS } from '../src/index';

describe('balances table', () => {
  it('grows for any number of accounts, keeping every balance apart', () => {
    const balances = new Balances(['BTC', 'USD', 'ETH']);
    const accounts = 500;
    for (let a = 0; a < accounts; a++) {
      balances.addAccount(a);
      for (let asset = 0; asset < 3; asset++) balances.deposit(balances.ref(a, asset), BigInt(a * 3 + asset + 1));
      balances.lock(balances.ref(a, 1), 1n);
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
    balances.lock(balances.ref(999, 2), 2n);
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
});
