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
