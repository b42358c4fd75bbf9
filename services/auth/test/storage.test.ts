import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { MIGRATIONS, pendingMigrations } from '../src/storage/migrations';
import type { AuthStore } from '../src/storage/auth-store';
import { openSqliteDatabase } from '../src/storage/sqlite-database';
import { DuplicateUserError, type UserRecord } from '../src/storage/users';
import { BACKENDS, openStoreFixture, tempDir, type StoreFixture } from './helpers';

const RELEVANCE_MS = 60_000;

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

async function duplicateField(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(DuplicateUserError);
    return (err as DuplicateUserError).field;
  }
  return expect.fail('no DuplicateUserError');
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  return expect.fail('succeeded');
}

/** A session of `owner` with one refresh token `first-<id>`. */
async function openSession(store: AuthStore, owner: UserRecord, overrides: { expiresAtMs?: number; createdAtMs?: number } = {}): Promise<string> {
  const id = randomUUID();
  await store.sessions.open(
    { id, userId: owner.id, createdAtMs: overrides.createdAtMs ?? 1000, expiresAtMs: overrides.expiresAtMs ?? 100_000, peer: '10.0.0.1', userAgent: 'test/1', secondFactor: false },
    `first-${id}`,
  );
  return id;
}

for (const backend of BACKENDS) {
  describe(`auth store (${backend})`, function () {
    let fixture: StoreFixture;
    let store: AuthStore;

    beforeEach(async function () {
      const opened = await openStoreFixture(backend, RELEVANCE_MS);
      if (opened === undefined) this.skip();
      fixture = opened;
      store = opened.store;
    });
    afterEach(async () => fixture?.dispose());

    it('records every migration, and re-opening (a second instance) applies nothing twice', async () => {
      const versions = async (db: AuthStore) => (await db.db.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).map((r) => Number(r.version));
      const all = MIGRATIONS.map((migration) => migration.version);
      expect(await versions(store)).to.deep.equal(all);
      const again = await fixture.reopen();
      expect(await versions(again)).to.deep.equal(all);
      await again.close();
    });

    describe('users', () => {
      it('creates a user and finds it by id, username (any case), email (any case) and login', async () => {
        const alice = user({ username: 'Alice.W', email: 'alice@example.com', roles: ['trader', 'admin'] });
        await store.users.create(alice);
        expect(await store.users.byId(alice.id)).to.deep.equal(alice);
        expect(await store.users.byUsername('alice.w')).to.deep.equal(alice);
        expect(await store.users.byEmail('ALICE@example.com')).to.deep.equal(alice);
        expect(await store.users.byLogin('ALICE.W')).to.deep.equal(alice);
        expect(await store.users.byLogin('alice@example.com')).to.deep.equal(alice);
        expect(await store.users.byId(randomUUID())).to.equal(undefined);
        expect(await store.users.byLogin('bob')).to.equal(undefined);
      });

      it('refuses a username that differs only in case, and a taken email', async () => {
        await store.users.create(user({ username: 'Carol', email: 'carol@example.com' }));
        expect(await duplicateField(store.users.create(user({ username: 'cAROL' })))).to.equal('username');
        expect(await duplicateField(store.users.create(user({ email: 'carol@example.com' })))).to.equal('email');
      });

      it('lets exactly one of many concurrent identical sign-ups win', async () => {
        const attempts = Array.from({ length: 8 }, (_, i) => store.users.create(user({ username: i % 2 ? 'Racer' : 'racer', email: 'race@example.com' })));
        const results = await Promise.allSettled(attempts);
        expect(results.filter((result) => result.status === 'fulfilled')).to.have.length(1);
        for (const result of results) if (result.status === 'rejected') expect(result.reason).to.be.instanceOf(DuplicateUserError);
      });

      it('updates the password hash, the roles and the email (refusing a taken one)', async () => {
        const dave = user();
        const erin = user();
        await store.users.create(dave);
        await store.users.create(erin);
        await store.users.setPasswordHash(dave.id, 'new-hash');
        await store.users.setRoles(dave.id, ['trader', 'admin']);
        await store.users.setEmail(dave.id, 'dave@example.com');
        expect(await store.users.byId(dave.id)).to.deep.include({ passwordHash: 'new-hash', roles: ['trader', 'admin'], email: 'dave@example.com' });
        expect(await duplicateField(store.users.setEmail(dave.id, erin.email))).to.equal('email');
      });

      it('remembers the bootstrapped admin by id', async () => {
        const admin = user();
        const other = user();
        await store.users.create(admin);
        await store.users.create(other);
        expect(await store.users.bootstrappedAdminId()).to.equal(undefined);
        await store.users.rememberBootstrappedAdmin(admin.id);
        expect(await store.users.bootstrappedAdminId()).to.equal(admin.id);
        await store.users.rememberBootstrappedAdmin(other.id);
        expect(await store.users.bootstrappedAdminId()).to.equal(other.id);
      });
    });

    describe('sessions and refresh tokens', () => {
      let owner: UserRecord;
      beforeEach(async () => {
        owner = user();
        await store.users.create(owner);
      });

      it('opens a session with its first token', async () => {
        const id = await openSession(store, owner);
        expect(await store.sessions.session(id)).to.deep.equal({
          id,
          userId: owner.id,
          createdAtMs: 1000,
          lastUsedAtMs: 1000,
          expiresAtMs: 100_000,
          peer: '10.0.0.1',
          userAgent: 'test/1',
          secondFactor: false,
          revokedAtMs: null,
        });
        expect(await store.sessions.token(`first-${id}`)).to.deep.include({ sessionId: id, userId: owner.id, spentAtMs: null, revokedAtMs: null, sealedAnswer: null });
      });

      it('rotates a live token: spends it with its sealed answer, stores the successor, extends the session', async () => {
        const id = await openSession(store, owner);
        const spent = await store.sessions.rotate(`first-${id}`, { tokenHash: 'next', expiresAtMs: 200_000, sealedAnswer: 'sealed' }, 2000);
        expect(spent).to.deep.include({ spentAtMs: 2000, sealedAnswer: 'sealed', successorHash: 'next' });
        expect(await store.sessions.token('next')).to.deep.include({ sessionId: id, createdAtMs: 2000, expiresAtMs: 200_000, spentAtMs: null });
        expect(await store.sessions.session(id)).to.deep.include({ lastUsedAtMs: 2000, expiresAtMs: 200_000 });
      });

      it('does not rotate a spent, revoked, expired or unknown token, and stores nothing', async () => {
        const spentId = await openSession(store, owner);
        await store.sessions.rotate(`first-${spentId}`, { tokenHash: 'x1', expiresAtMs: 200_000, sealedAnswer: 's' }, 1500);
        const revokedId = await openSession(store, owner);
        await store.sessions.revoke({ sessionId: revokedId }, 1500);
        const expiredId = await openSession(store, owner, { expiresAtMs: 2000 });
        for (const hash of [`first-${spentId}`, `first-${revokedId}`, `first-${expiredId}`, 'unknown']) {
          expect(await store.sessions.rotate(hash, { tokenHash: `next-${hash}`, expiresAtMs: 20_000, sealedAnswer: 's' }, 2000), hash).to.equal(undefined);
          expect(await store.sessions.token(`next-${hash}`)).to.equal(undefined);
        }
      });

      it('lets only one of concurrent rotations of the same token succeed', async () => {
        const id = await openSession(store, owner);
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) => store.sessions.rotate(`first-${id}`, { tokenHash: `next-${i}`, expiresAtMs: 20_000, sealedAnswer: `s${i}` }, 2000)),
        );
        expect(results.filter((result) => result !== undefined)).to.have.length(1);
      });

      it('revokes one session: its tokens stop, it leaves the live list, and the revocation is logged', async () => {
        const first = await openSession(store, owner, { createdAtMs: 1000 });
        const second = await openSession(store, owner, { createdAtMs: 1100 });
        expect((await store.sessions.live(owner.id, 3000)).map((s) => s.id)).to.deep.equal([second, first]);
        expect(await store.sessions.revoke({ sessionId: first, userId: owner.id }, 3000)).to.deep.equal([first]);
        expect(await store.sessions.revoke({ sessionId: first }, 4000), 'already revoked').to.deep.equal([]);
        expect(await store.sessions.revoke({ sessionId: second, userId: randomUUID() }, 4000), "another user's").to.deep.equal([]);
        expect((await store.sessions.token(`first-${first}`))?.revokedAtMs).to.equal(3000);
        expect((await store.sessions.live(owner.id, 3000)).map((s) => s.id)).to.deep.equal([second]);
        const log = await store.revocations.after(0, 3000);
        expect(log.map(({ sessionId, revokedAtMs, relevantUntilMs }) => ({ sessionId, revokedAtMs, relevantUntilMs }))).to.deep.equal([
          { sessionId: first, revokedAtMs: 3000, relevantUntilMs: 3000 + RELEVANCE_MS },
        ]);
      });

      it("revokes all of a user's live sessions, or all but one, and nobody else's", async () => {
        const other = user();
        await store.users.create(other);
        const mine = [await openSession(store, owner), await openSession(store, owner), await openSession(store, owner)];
        const theirs = await openSession(store, other);
        const ended = await openSession(store, owner, { expiresAtMs: 1500 });
        const kept = mine[0]!;
        expect(await store.sessions.revoke({ userId: owner.id, exceptSessionId: kept }, 5000)).to.deep.equal([mine[1]!, mine[2]!].sort());
        expect(await store.sessions.revoke({ userId: owner.id }, 6000)).to.deep.equal([kept]);
        expect((await store.sessions.session(theirs))?.revokedAtMs).to.equal(null);
        expect((await store.sessions.session(ended))?.revokedAtMs, 'an expired session is not revoked again').to.equal(null);
        const log = await store.revocations.after(0, 6000);
        expect(log.map((entry) => entry.sessionId)).to.have.members(mine);
        expect(log.map((entry) => entry.seq)).to.deep.equal([...log.map((entry) => entry.seq)].sort((a, b) => a - b));
        expect((await store.revocations.after(log[1]!.seq, 6000)).map((entry) => entry.seq), 'resumes after a cursor').to.deep.equal([log[2]!.seq]);
      });

      it('purges expired tokens, stale answers, ended sessions and revocations that no longer matter', async () => {
        const live = await openSession(store, owner);
        await store.sessions.rotate(`first-${live}`, { tokenHash: 'next', expiresAtMs: 200_000, sealedAnswer: 'sealed' }, 2000);
        const ended = await openSession(store, owner);
        await store.sessions.revoke({ sessionId: ended }, 3000);
        const old = await openSession(store, owner, { expiresAtMs: 4000 });
        await store.sessions.purge(20_000, 30_000, 10_000);
        expect((await store.sessions.token(`first-${live}`))?.sealedAnswer, 'answer kept within the grace period').to.equal('sealed');
        await store.sessions.purge(50_000, 30_000, 10_000);
        expect((await store.sessions.token(`first-${live}`))?.sealedAnswer).to.equal(null);
        expect(await store.sessions.token(`first-${old}`)).to.equal(undefined);
        expect(await store.sessions.session(ended)).to.equal(undefined);
        expect(await store.sessions.session(live)).to.not.equal(undefined);
        expect(await store.revocations.purge(3000 + RELEVANCE_MS - 1)).to.equal(0);
        expect(await store.revocations.purge(3000 + RELEVANCE_MS)).to.equal(1);
      });

      it('keeps timestamps beyond 2^31 exactly', async () => {
        const id = randomUUID();
        await store.sessions.open({ id, userId: owner.id, createdAtMs: 1_900_000_000_001, expiresAtMs: 4_102_444_800_000, peer: '', userAgent: '', secondFactor: true }, 'far');
        expect(await store.sessions.session(id)).to.deep.include({ createdAtMs: 1_900_000_000_001, expiresAtMs: 4_102_444_800_000, secondFactor: true });
      });
    });

    describe('signing keys', () => {
      const key = (kid: string, activatesAtMs: number) => ({ kid, createdAtMs: 1, activatesAtMs, sealedPrivateKey: `sealed-${kid}` });

      it('stores a key unless one activating at or after the bound exists, once across concurrent instances', async () => {
        // Two SQLite connections in one process would block each other's event loop: instances of SQLite are processes.
        const other = backend === 'PostgreSQL' ? await fixture.reopen() : store;
        try {
          const results = await Promise.all([store.signingKeys.insertUnlessScheduled(key('a', 100), 0), other.signingKeys.insertUnlessScheduled(key('b', 100), 0)]);
          expect(results.filter(Boolean)).to.have.length(1);
          expect(await store.signingKeys.insertUnlessScheduled(key('c', 500), 200)).to.equal(true);
          expect(await store.signingKeys.insertUnlessScheduled(key('d', 600), 200), 'c is pending').to.equal(false);
          expect((await other.signingKeys.all()).map((k) => k.activatesAtMs)).to.deep.equal([100, 500]);
          await store.signingKeys.delete(['c']);
          expect((await store.signingKeys.all()).map((k) => k.sealedPrivateKey)).to.have.length(1);
        } finally {
          if (other !== store) await other.close();
        }
      });
    });

    describe('second factors', () => {
      let owner: UserRecord;
      beforeEach(async () => {
        owner = user();
        await store.users.create(owner);
      });

      it('keeps a pending secret until confirmed, then refuses to replace it', async () => {
        expect(await store.secondFactors.savePending(owner.id, 'secret-1', 1000)).to.equal(true);
        expect(await store.secondFactors.savePending(owner.id, 'secret-2', 1100), 'a pending one is replaced').to.equal(true);
        expect(await store.secondFactors.totpEnabled(owner.id)).to.equal(false);
        expect(await store.secondFactors.acceptTimeStep({ userId: owner.id, sealedSecret: 'secret-1' }, 10, 1200), 'not the current secret').to.equal(false);
        expect(await store.secondFactors.acceptTimeStep({ userId: owner.id, sealedSecret: 'secret-2' }, 10, 1200)).to.equal(true);
        expect(await store.secondFactors.totpEnabled(owner.id)).to.equal(true);
        expect(await store.secondFactors.totp(owner.id)).to.deep.equal({ userId: owner.id, sealedSecret: 'secret-2', createdAtMs: 1100, confirmedAtMs: 1200, lastTimeStep: 10 });
        expect(await store.secondFactors.savePending(owner.id, 'secret-3', 1300)).to.equal(false);
      });

      it('accepts each time step once and never an earlier one (replay), also when two instances race', async () => {
        await store.secondFactors.savePending(owner.id, 's', 1000);
        const factor = { userId: owner.id, sealedSecret: 's' };
        expect(await store.secondFactors.acceptTimeStep(factor, 20, 1000)).to.equal(true);
        expect(await store.secondFactors.acceptTimeStep(factor, 20)).to.equal(false);
        expect(await store.secondFactors.acceptTimeStep(factor, 19)).to.equal(false);
        const other = await fixture.reopen();
        try {
          const raced = await Promise.all([store.secondFactors.acceptTimeStep(factor, 21), other.secondFactors.acceptTimeStep(factor, 21)]);
          expect(raced.filter(Boolean)).to.have.length(1);
        } finally {
          await other.close();
        }
      });

      it('spends each recovery code once; new codes replace the old; removal takes everything', async () => {
        await store.secondFactors.savePending(owner.id, 's', 1000);
        await store.secondFactors.replaceRecoveryCodes(owner.id, ['h1', 'h2'], 1000);
        expect(await store.secondFactors.spendRecoveryCode(owner.id, 'h1', 2000)).to.equal(true);
        expect(await store.secondFactors.spendRecoveryCode(owner.id, 'h1', 2001)).to.equal(false);
        const stranger = user();
        await store.users.create(stranger);
        expect(await store.secondFactors.spendRecoveryCode(stranger.id, 'h2', 2002), "another user's code").to.equal(false);
        await store.secondFactors.replaceRecoveryCodes(owner.id, ['h3'], 3000);
        expect(await store.secondFactors.spendRecoveryCode(owner.id, 'h2', 3001)).to.equal(false);
        await store.secondFactors.remove(owner.id);
        expect(await store.secondFactors.spendRecoveryCode(owner.id, 'h3', 3002)).to.equal(false);
        expect(await store.secondFactors.totp(owner.id)).to.equal(undefined);
      });
    });

    describe('audit log', () => {
      it('appends and pages newest first, optionally for one user', async () => {
        const alice = randomUUID();
        const bob = randomUUID();
        await store.audit.append({ kind: 'sign_up', actorId: alice, subjectId: alice, peer: '1.2.3.4' }, 1);
        await store.audit.append({ kind: 'sign_in_failed', subjectId: bob, detail: 'wrong password' }, 2);
        await store.audit.append({ kind: 'roles_changed', actorId: alice, subjectId: bob, sessionId: 's1' }, 3);
        const all = await store.audit.page({ limit: 10 });
        expect(all.map((e) => e.kind)).to.deep.equal(['roles_changed', 'sign_in_failed', 'sign_up']);
        expect(all[1]).to.deep.include({ atMs: 2, subjectId: bob, detail: 'wrong password' }).and.not.have.property('actorId');
        const firstPage = await store.audit.page({ limit: 2 });
        expect((await store.audit.page({ limit: 2, beforeSeq: firstPage[1]!.seq })).map((e) => e.kind)).to.deep.equal(['sign_up']);
        expect((await store.audit.page({ limit: 10, userId: alice })).map((e) => e.kind)).to.deep.equal(['roles_changed', 'sign_up']);
      });

      it('refuses to change or delete an entry: the database enforces append-only', async () => {
        await store.audit.append({ kind: 'sign_up' }, 1);
        expect((await rejection(store.db.run("UPDATE audit_events SET kind = 'forged'"))).message).to.match(/append-only/);
        expect((await rejection(store.db.run('DELETE FROM audit_events'))).message).to.match(/append-only/);
        expect(await store.audit.page({ limit: 10 })).to.have.length(1);
      });
    });
  });
}

describe('SQLite store file', () => {
  it('is private (0600)', async () => {
    const dir = await tempDir();
    try {
      const file = join(dir.path, 'auth.db');
      await (await openSqliteDatabase(file)).close();
      expect(statSync(file).mode & 0o777).to.equal(0o600);
    } finally {
      await dir.remove();
    }
  });
});

describe('pendingMigrations', () => {
  it('lists what is not applied yet, and refuses a schema newer than this build', () => {
    const all = MIGRATIONS.map((migration) => migration.version);
    expect(pendingMigrations([]).map((migration) => migration.version)).to.deep.equal(all);
    expect(pendingMigrations(all)).to.deep.equal([]);
    expect(() => pendingMigrations([...all, 999])).to.throw(/version 999, newer than this build/);
  });

  it('upgrades a version-1 database in place (users and tokens kept)', async () => {
    const dir = await tempDir();
    try {
      const Database = (await import('better-sqlite3')).default;
      const file = join(dir.path, 'auth.db');
      const v1 = new Database(file);
      v1.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms BIGINT NOT NULL)');
      for (const statement of MIGRATIONS[0]!.statements.sqlite) v1.exec(statement);
      v1.prepare("INSERT INTO schema_migrations VALUES (1, 'users and refresh tokens', 0)").run();
      v1.prepare("INSERT INTO users VALUES ('u1', 'old', 'old@example.com', 'hash', 'trader', 1)").run();
      v1.close();
      const db = await openSqliteDatabase(file);
      expect(await db.get('SELECT username FROM users')).to.deep.equal({ username: 'old' });
      expect((await db.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version)).to.deep.equal([1, 2]);
      await db.close();
    } finally {
      await dir.remove();
    }
  });
});
