import { expect } from 'chai';
import { Engine } from '../src/index';
import { accepted, amt, CONFIG, Harness, rejected } from './harness';

describe('engine: deposits with an external reference', () => {
  it('keeps the reference in the funds ledger and the snapshot; a retry must repeat it, after a restore too', () => {
    const h = new Harness();
    const deposit = (amount: string, more: { requestId?: string; reference?: string }) =>
      h.send({ kind: 'deposit', userId: 'ann', asset: 'USD', amount: amt(amount), adminId: 'admin-1', ...more });
    accepted(deposit('10', { reference: 'wire 2026-11-30/1' }));
    accepted(deposit('5', {}));
    accepted(deposit('7', { requestId: 'r-1', reference: 'tx 0xab' }));
    accepted(deposit('7', { requestId: 'r-1', reference: 'tx 0xab' }));
    const conflict = { code: 'ALREADY_EXISTS', field: 'request_id' };
    for (const other of [{ reference: 'tx 0xcd' }, {}]) expect(rejected(deposit('7', { requestId: 'r-1', ...other }))).to.include(conflict);
    expect(rejected(deposit('8', { requestId: 'r-1', reference: 'tx 0xab' }))).to.include(conflict);
    const entries = (engine: Engine) => engine.ledger('ann', { limit: 10 }).map((e) => [e.amount, e.requestId, e.reference]);
    expect(entries(h.engine)).to.deep.equal([
      [amt('7'), 'r-1', 'tx 0xab'],
      [amt('5'), undefined, undefined],
      [amt('10'), undefined, 'wire 2026-11-30/1'],
    ]);
    expect(h.balance('ann', 'USD')).to.deep.equal({ available: amt('22'), locked: 0n });
    const restored = Engine.restore(CONFIG, h.engine.snapshot());
    expect(entries(restored)).to.deep.equal(entries(h.engine));
    expect(restored.stateHash()).to.equal(h.engine.stateHash());
    const retry = { seq: h.engine.lastSeq() + 1, timestamp: 1_800_000_000_000, kind: 'deposit', userId: 'ann', asset: 'USD', amount: amt('7'), requestId: 'r-1' } as const;
    expect(rejected(restored.apply({ ...retry, reference: 'tx 0xcd' }))).to.include(conflict);
    accepted(restored.apply({ ...retry, seq: retry.seq + 1, reference: 'tx 0xab' }));
  });

  it('refuses a reference that is empty, too long or not printable ASCII, naming it, and changes nothing', () => {
    const h = new Harness();
    for (const reference of ['', 'x'.repeat(129), 'caf\u00e9', 'new\nline']) {
      const result = h.send({ kind: 'deposit', userId: 'ann', asset: 'USD', amount: amt('1'), adminId: 'admin-1', reference });
      expect(rejected(result), JSON.stringify(reference)).to.include({ code: 'INVALID_ARGUMENT', field: 'reference' });
    }
    expect(h.engine.ledger('ann', { limit: 10 })).to.deep.equal([]);
    accepted(h.send({ kind: 'deposit', userId: 'ann', asset: 'USD', amount: amt('1'), reference: 'x'.repeat(128) }));
  });
});
