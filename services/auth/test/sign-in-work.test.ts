import { join } from 'node:path';
import bcrypt from 'bcrypt';
import { expect } from 'chai';
import pino from 'pino';
import { isServiceError } from '@orderbook/server-kit';
import { KeyRing } from '../src/keys';
import { createBcryptHasher, type PasswordHasher } from '../src/passwords';
import { RefreshTokens } from '../src/refresh-tokens';
import { AuthService, SIGN_IN_FAILED } from '../src/service';
import { openSqliteStore } from '../src/sqlite-store';
import { AccessTokens } from '../src/tokens';
import type { UserStore } from '../src/user-store';
import { tempDir } from './helpers';

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
  let dir: { path: string; remove(): Promise<void> };
  let store: UserStore;
  let keys: KeyRing;

  beforeEach(async () => {
    dir = await tempDir();
    store = openSqliteStore(join(dir.path, 'auth.db'));
    keys = await KeyRing.load({ dataDir: dir.path, previousKeyFiles: [], rotationDays: 0, retentionMs: 1000, logger: pino({ level: 'silent' }) });
  });
  afterEach(async () => {
    await store.close();
    await dir.remove();
  });

  function service(passwords: PasswordHasher): AuthService {
    return new AuthService({
      store,
      passwords,
      keys,
      accessTokens: new AccessTokens(keys, { issuer: 'i', audience: 'a', ttlSeconds: 60, clockToleranceSeconds: 30 }),
      refreshTokens: new RefreshTokens(store, 3600),
      signInLimits: { maxFailuresPerAccount: 2, maxFailuresPerPeer: 100, windowSeconds: 60 },
      issuer: 'i',
      audience: 'a',
      logger: pino({ level: 'silent' }),
    });
  }

  it('runs one bcrypt compare of the configured cost for an unknown user, as for a wrong password', async () => {
    const passwords = recording(await createBcryptHasher(5));
    const auth = service(passwords);
    await auth.signUp({ username: 'known', email: 'known@example.com', password: 'right password' });
    const stored = (await store.findUserByUsername('known'))?.passwordHash ?? '';

    const wrongPassword = await failure(auth.signIn({ login: 'known', password: 'wrong password' }, 'peer'));
    expect(passwords.compared).to.deep.equal([stored]);

    const unknownUser = await failure(auth.signIn({ login: 'unknown', password: 'wrong password' }, 'peer'));
    const unknownEmail = await failure(auth.signIn({ login: 'unknown@example.com', password: 'wrong password' }, 'peer'));
    expect(passwords.compared).to.deep.equal([stored, passwords.dummyHash, passwords.dummyHash]);
    expect(bcrypt.getRounds(passwords.dummyHash)).to.equal(bcrypt.getRounds(stored)).and.to.equal(5);

    expect(unknownUser).to.equal(wrongPassword);
    expect(unknownEmail).to.equal(wrongPassword);
    expect(wrongPassword).to.match(new RegExp(`${SIGN_IN_FAILED}$`));
  });

  it('spends no bcrypt work on a rate-limited attempt', async () => {
    const passwords = recording(await createBcryptHasher(4));
    const auth = service(passwords);
    for (let i = 0; i < 2; i += 1) await failure(auth.signIn({ login: 'nobody', password: 'guess-guess' }, 'peer'));
    expect(await failure(auth.signIn({ login: 'nobody', password: 'guess-guess' }, 'peer'))).to.match(/too many failed sign-ins/);
    expect(passwords.compared).to.have.length(2);
  });

  it('re-hashes a password made with another cost at the next successful sign-in', async () => {
    await service(await createBcryptHasher(4)).signUp({ username: 'legacy', email: 'legacy@example.com', password: 'old cost pw' });
    await service(await createBcryptHasher(5)).signIn({ login: 'legacy', password: 'old cost pw' }, 'peer');
    const upgraded = (await store.findUserByUsername('legacy'))?.passwordHash ?? '';
    expect(bcrypt.getRounds(upgraded)).to.equal(5);
    expect(await bcrypt.compare('old cost pw', upgraded)).to.equal(true);
  });
});
