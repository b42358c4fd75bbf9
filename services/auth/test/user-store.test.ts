import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import Database from 'better-sqlite3';
import { MIGRATIONS, pendingMigrations } from '../src/migrations';
import { openPostgresStore } from '../src/postgres-store';
import { openSqliteStore } from '../src/sqlite-store';
import { DuplicateUserError, type RefreshTokenRecord, type UserRecord, type UserStore } from '../src/user-store';
import { createPostgresSchema, tempDir, type Backend } from './helpers';

/** Opens a store on a fresh database; `reopen` opens a second store on the same database. */
interface StoreFixture {
  readonly store: UserStore;
  reopen(): Promise<UserStore>;
  /** The versions recorded in schema_migrations. */
  appliedVersions(): Promise<number[]>;
  dispose(): Promise<void>;
}

async function openFixture(backend: Backend): Promise<StoreFixture | undefined> {
  if (backend === 'SQLite') {
    const dir = await tempDir();
    const file = join(dir.path, 'auth.db');
    const store = openSqliteStore(file);
    return {
      store,
      reopen: async () => openSqliteStore(file),
      appliedVersions: async () => {
        const db = new Database(file, { readonly: true });
        try {
          return db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all() as number[];
        } finally {
          db.close();
        }
      },
      dispose: async () => {
        await store.close();
        await dir.remove();
      },
    };
  }
  const schema = await createPostgresSchema();
  if (schema === undefined) return undefined;
  const open = (): Promise<UserStore> => openPostgresStore({ connectionString: schema.connectionString, schema: schema.name });
  const store = await open();
  return {
    store,
    reopen: open,
    appliedVersions: async () => {
      const client = new pg.Client({ connectionString: schema.connectionString });
      await client.connect();
      try {
        const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${schema.name}.schema_migrations ORDER BY version`);
        return rows.map((row) => row.version);
      } finally {
        await client.end();
      }
    },
    dispose: async () => {
      await store.close();
      await schema.drop();
    },
  };
}

function user(overrides: Partial<UserRecord> = {}): UserRecord {
  const id = randomUUID();
  return {
    id,
    username: `User_${id.slice(0, 8)}`,
    email: `${id.slice(0, 8)}@example.com`,
    passwordHash: '$2b$04$abcdefghijklmnopqrstuuJ7lq0bnlIq8vV7zJMhx1x2gJ/zB0bDK',
    roles: ['trader'],
    createdAtMs: 1_700_000_000_123,
    ...overrides,
  };
}

function refreshToken(userId: string, overrides: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord {
  return {
    tokenHash: randomUUID(),
    familyId: randomUUID(),
    userId,
    createdAtMs: 1000,
    expiresAtMs: 10_000,
    spentAtMs: null,
    revokedAtMs: null,
    ...overrides,
  };
}

async function duplicateField(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(DuplicateUserError);
    return (err as DuplicateUserError).field;
  }
  return expect.fail('no DuplicateUserError');
}

for (const backend of ['SQLite', 'PostgreSQL'] as const) {
  describe(`user store (${backend})`, function () {
    let fixture: StoreFixture;
    let store: UserStore;

    beforeEach(async function () {
      const opened = await openFixture(backend);
      if (opened === undefined) this.skip();
      fixture = opened;
      store = opened.store;
    });
    afterEach(async () => fixture?.dispose());

    describe('migrations', () => {
      it('records every migration, and re-opening applies nothing twice', async () => {
        const all = MIGRATIONS.map((migration) => migration.version);
        expect(await fixture.appliedVersions()).to.deep.equal(all);
        const again = await fixture.reopen();
        await again.close();
        expect(await fixture.appliedVersions()).to.deep.equal(all);
      });
    });

    describe('users', () => {
      it('creates a user and finds it by id, username (any case) and email', async () => {
        const alice = user({ username: 'Alice.W', email: 'alice@example.com', roles: ['trader', 'admin'] });
        await store.createUser(alice);
        expect(await store.findUserById(alice.id)).to.deep.equal(alice);
        expect(await store.findUserByUsername('alice.w')).to.deep.equal(alice);
        expect(await store.findUserByUsername('ALICE.W')).to.deep.equal(alice);
        expect(await store.findUserByEmail('alice@example.com')).to.deep.equal(alice);
        expect(await store.findUserById(randomUUID())).to.equal(undefined);
        expect(await store.findUserByUsername('bob')).to.equal(undefined);
        expect(await store.findUserByEmail('bob@example.com')).to.equal(undefined);
      });

      it('refuses a username that differs only in case, and a taken email', async () => {
        await store.createUser(user({ username: 'Carol', email: 'carol@example.com' }));
        expect(await duplicateField(store.createUser(user({ username: 'cAROL' })))).to.equal('username');
        expect(await duplicateField(store.createUser(user({ email: 'carol@example.com' })))).to.equal('email');
      });

      it('lets exactly one of many concurrent identical sign-ups win', async () => {
        const attempts = Array.from({ length: 8 }, (_, i) => store.createUser(user({ username: i % 2 ? 'Racer' : 'racer', email: 'race@example.com' })));
        const results = await Promise.allSettled(attempts);
        expect(results.filter((result) => result.status === 'fulfilled')).to.have.length(1);
        for (const result of results) {
          if (result.status === 'rejected') expect(result.reason).to.be.instanceOf(DuplicateUserError);
        }
      });

      it('updates the password hash and the roles', async () => {
        const dave = user();
        await store.createUser(dave);
        await store.updateUser(dave.id, { passwordHash: 'new-hash' });
        expect(await store.findUserById(dave.id)).to.deep.include({ passwordHash: 'new-hash', roles: ['trader'] });
        await store.updateUser(dave.id, { roles: ['trader', 'admin'] });
        expect(await store.findUserById(dave.id)).to.deep.include({ passwordHash: 'new-hash', roles: ['trader', 'admin'] });
      });
    });

    describe('refresh tokens', () => {
      let owner: UserRecord;
      beforeEach(async () => {
        owner = user();
        await store.createUser(owner);
      });

      it('stores and finds a token by hash', async () => {
        const token = refreshToken(owner.id);
        await store.insertRefreshToken(token);
        expect(await store.findRefreshToken(token.tokenHash)).to.deep.equal(token);
        expect(await store.findRefreshToken('unknown')).to.equal(undefined);
      });

      it('rotates a live token: spends it and stores its successor in the same family', async () => {
        const token = refreshToken(owner.id);
        await store.insertRefreshToken(token);
        const spent = await store.rotateRefreshToken(token.tokenHash, { tokenHash: 'next', expiresAtMs: 20_000 }, 2000);
        expect(spent).to.deep.equal({ ...token, spentAtMs: 2000 });
        expect(await store.findRefreshToken('next')).to.deep.equal({
          tokenHash: 'next',
          familyId: token.familyId,
          userId: owner.id,
          createdAtMs: 2000,
          expiresAtMs: 20_000,
          spentAtMs: null,
          revokedAtMs: null,
        });
      });

      it('does not rotate a spent, revoked, expired or unknown token, and stores nothing', async () => {
        const spent = refreshToken(owner.id, { spentAtMs: 1500 });
        const revoked = refreshToken(owner.id, { revokedAtMs: 1500 });
        const expired = refreshToken(owner.id, { expiresAtMs: 2000 });
        for (const token of [spent, revoked, expired]) await store.insertRefreshToken(token);
        for (const hash of [spent.tokenHash, revoked.tokenHash, expired.tokenHash, 'unknown']) {
          expect(await store.rotateRefreshToken(hash, { tokenHash: `next-${hash}`, expiresAtMs: 20_000 }, 2000)).to.equal(undefined);
          expect(await store.findRefreshToken(`next-${hash}`)).to.equal(undefined);
        }
      });

      it('lets only one of concurrent rotations of the same token succeed', async () => {
        const token = refreshToken(owner.id);
        await store.insertRefreshToken(token);
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) => store.rotateRefreshToken(token.tokenHash, { tokenHash: `next-${i}`, expiresAtMs: 20_000 }, 2000)),
        );
        expect(results.filter((result) => result !== undefined)).to.have.length(1);
      });

      it('revokes a whole family and nothing else', async () => {
        const first = refreshToken(owner.id);
        const sibling = refreshToken(owner.id, { familyId: first.familyId, spentAtMs: 1200 });
        const stranger = refreshToken(owner.id);
        for (const token of [first, sibling, stranger]) await store.insertRefreshToken(token);
        await store.revokeRefreshFamily(first.familyId, 3000);
        expect((await store.findRefreshToken(first.tokenHash))?.revokedAtMs).to.equal(3000);
        expect((await store.findRefreshToken(sibling.tokenHash))?.revokedAtMs).to.equal(3000);
        expect((await store.findRefreshToken(stranger.tokenHash))?.revokedAtMs).to.equal(null);
        await store.revokeRefreshFamily(first.familyId, 4000);
        expect((await store.findRefreshToken(first.tokenHash))?.revokedAtMs, 'keeps the first revocation time').to.equal(3000);
      });

      it("revokes all of a user's tokens", async () => {
        const other = user();
        await store.createUser(other);
        const mine = [refreshToken(owner.id), refreshToken(owner.id)];
        const theirs = refreshToken(other.id);
        for (const token of [...mine, theirs]) await store.insertRefreshToken(token);
        await store.revokeUserRefreshTokens(owner.id, 5000);
        for (const token of mine) expect((await store.findRefreshToken(token.tokenHash))?.revokedAtMs).to.equal(5000);
        expect((await store.findRefreshToken(theirs.tokenHash))?.revokedAtMs).to.equal(null);
      });

      it('deletes expired tokens', async () => {
        const old = refreshToken(owner.id, { expiresAtMs: 5000 });
        const live = refreshToken(owner.id, { expiresAtMs: 50_000 });
        await store.insertRefreshToken(old);
        await store.insertRefreshToken(live);
        expect(await store.deleteExpiredRefreshTokens(6000)).to.equal(1);
        expect(await store.findRefreshToken(old.tokenHash)).to.equal(undefined);
        expect(await store.findRefreshToken(live.tokenHash)).to.deep.equal(live);
      });

      it('keeps timestamps beyond 2^31 exactly', async () => {
        const token = refreshToken(owner.id, { createdAtMs: 1_900_000_000_001, expiresAtMs: 4_102_444_800_000 });
        await store.insertRefreshToken(token);
        expect(await store.findRefreshToken(token.tokenHash)).to.deep.equal(token);
      });
    });

    if (backend === 'SQLite') {
      it('keeps the database file private (0600)', async () => {
        const dir = await tempDir();
        try {
          const file = join(dir.path, 'auth.db');
          const own = openSqliteStore(file);
          await own.close();
          expect(statSync(file).mode & 0o777).to.equal(0o600);
        } finally {
          await dir.remove();
        }
      });
    }
  });
}

describe('pendingMigrations', () => {
  it('lists what is not applied yet, and refuses a schema newer than this build', () => {
    const all = MIGRATIONS.map((migration) => migration.version);
    expect(pendingMigrations([]).map((migration) => migration.version)).to.deep.equal(all);
    expect(pendingMigrations(all)).to.deep.equal([]);
    expect(() => pendingMigrations([...all, 999])).to.throw(/version 999, newer than this build/);
  });
});
