import bcrypt from 'bcrypt';
import { expect } from 'chai';
import { isServiceError } from '@orderbook/server-kit';
import { SIGN_IN_FAILED } from '../src/api/errors';
import { createBcryptHasher, type PasswordHasher } from '../src/security/passwords';
import { openStoreFixture, type StoreFixture } from './helpers';
import { serviceOver } from './service-fixture';

/** Wraps a hasher and records every compare, to check which hash sign-in spends its bcrypt work on. */
function recording(inner: PasswordHasher): PasswordHasher & { compared: string[] } {
  const compared: string[] = [];
  return {
    compared,
    dummyHash: inner.dummyHash,
    hash: (password) => inner.hash(password),
    needsRehash: (hash) => inner.needsRehash(hash),
    compare: (password, hash) => {
      compared.push(hash);
      return inner.compare(password, hash);
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (isServiceError(err)) return `${err.code} ${err.details}`;
    throw err;
  }
  return expect.fail('succeeded');
}

describe('sign-in work (structural "same time" check)', () => {
  let fixture: StoreFixture;

  beforeEach(async () => {
    fixture = (await openStoreFixture('SQLite'))!;
  });
  afterEach(() => fixture.dispose());

  it('runs one bcrypt compare of the configured cost for an unknown user, as for a wrong password', async () => {
    const passwords = recording(await createBcryptHasher(5));
    const { service, ctx } = await serviceOver(fixture.store, passwords);
    await service.signIns.signUp({ username: 'known', email: 'known@example.com', password: 'right password' }, ctx());
    const stored = (await fixture.store.users.byUsername('known'))?.passwordHash ?? '';

    const wrongPassword = await failure(service.signIns.signIn({ login: 'known', password: 'wrong password' }, ctx()));
    expect(passwords.compared).to.deep.equal([stored]);

    const unknownUser = await failure(service.signIns.signIn({ login: 'unknown', password: 'wrong password' }, ctx()));
    const unknownEmail = await failure(service.signIns.signIn({ login: 'unknown@example.com', password: 'wrong password' }, ctx()));
    expect(passwords.compared).to.deep.equal([stored, passwords.dummyHash, passwords.dummyHash]);
    expect(bcrypt.getRounds(passwords.dummyHash)).to.equal(bcrypt.getRounds(stored)).and.to.equal(5);

    expect(unknownUser).to.equal(wrongPassword);
    expect(unknownEmail).to.equal(wrongPassword);
    expect(wrongPassword).to.match(new RegExp(`${SIGN_IN_FAILED}$`));
  });

  it('hashes a sign-up password whether or not the name is taken (a taken name answers in the time a new one does)', async () => {
    const passwords = recording(await createBcryptHasher(4));
    let hashed = 0;
    const counting: PasswordHasher = { ...passwords, hash: (password) => ((hashed += 1), passwords.hash(password)) };
    const { service, ctx } = await serviceOver(fixture.store, counting);
    await service.signIns.signUp({ username: 'first', email: 'first@example.com', password: 'right password' }, ctx());
    await failure(service.signIns.signUp({ username: 'first', email: 'other@example.com', password: 'right password' }, ctx()));
    await failure(service.signIns.signUp({ username: 'admin', email: 'x@example.com', password: 'right password' }, ctx()));
    expect(hashed).to.equal(3);
  });

  it('spends no bcrypt work on an attempt while the account waits out its delay', async () => {
    const passwords = recording(await createBcryptHasher(4));
    const { service, ctx } = await serviceOver(fixture.store, passwords);
    for (let i = 0; i < 3; i += 1) await failure(service.signIns.signIn({ login: 'nobody', password: 'guess-guess' }, ctx()));
    expect(await failure(service.signIns.signIn({ login: 'nobody', password: 'guess-guess' }, ctx()))).to.match(/too many failed sign-ins/);
    expect(passwords.compared).to.have.length(3);
  });

  it('re-hashes a password made with another cost at the next successful sign-in', async () => {
    const old = await serviceOver(fixture.store, await createBcryptHasher(4));
    await old.service.signIns.signUp({ username: 'legacy', email: 'legacy@example.com', password: 'old cost pw!' }, old.ctx());
    const current = await serviceOver(fixture.store, await createBcryptHasher(5));
    await current.service.signIns.signIn({ login: 'legacy', password: 'old cost pw!' }, current.ctx());
    const upgraded = (await fixture.store.users.byUsername('legacy'))?.passwordHash ?? '';
    expect(bcrypt.getRounds(upgraded)).to.equal(5);
    expect(await bcrypt.compare('old cost pw!', upgraded)).to.equal(true);
  });
});
