import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import type { ErrorDetails } from '@orderbook/server-kit';
import { createBcryptHasher } from '../src/security/passwords';
import { expectStatus, openStoreFixture, signedUp, startTestServer, TEST_REDIS_URL, testRedisPrefix, type Backend, type StoreFixture, type TestServer } from './helpers';
import { serviceOver } from './service-fixture';

const { status } = grpc;

/** The database and the counters of each run: SQLite with counters in process, PostgreSQL with counters in Redis. */
const SETUPS: ReadonlyArray<{ readonly backend: Backend; readonly counters: string; readonly env: () => Record<string, string> }> = [
  { backend: 'SQLite', counters: 'in-process', env: () => ({}) },
  { backend: 'PostgreSQL', counters: 'Redis', env: () => ({ AUTH_REDIS_URL: TEST_REDIS_URL, AUTH_REDIS_KEY_PREFIX: testRedisPrefix() }) },
];

function deadlineIn(ms: number): grpc.CallOptions {
  return { deadline: Date.now() + ms };
}

for (const { backend, counters, env } of SETUPS) {
  describe(`sign-in throttling per peer (${backend}, counters ${counters})`, function () {
    let t: TestServer;

    before(async function () {
      // One free failure per address, then failure answers are held 5 s; accounts are not throttled here.
      const started = await startTestServer(backend, {
        ...env(),
        AUTH_SIGNIN_FREE_FAILURES_PER_PEER: '1',
        AUTH_SIGNIN_BASE_DELAY_MS: '5000',
        AUTH_SIGNIN_MAX_PEER_DELAY_SECONDS: '5',
        AUTH_SIGNIN_FREE_FAILURES_PER_ACCOUNT: '1000',
      });
      if (started === undefined) this.skip();
      t = started;
    });
    after(async () => t?.close());

    it('never refuses a right password because of failures from the same address on other accounts (the shared-NAT lock-out)', async () => {
      const victim = await signedUp(t.client);
      // The free failure is answered (with no deadline: bcrypt on a loaded machine may take longer than
      // the held ones' 200 ms); held failures run into the short deadline: the attacker gets nothing faster.
      await expectStatus(t.client.signIn({ login: 'someone-else-0', password: 'a wrong guess' }), status.UNAUTHENTICATED);
      for (let i = 1; i < 5; i += 1) {
        await expectStatus(t.client.signIn({ login: `someone-else-${i}`, password: 'a wrong guess' }, new grpc.Metadata(), deadlineIn(200)), status.DEADLINE_EXCEEDED);
      }
      const { user } = await t.client.signIn({ login: victim.username, password: victim.password });
      expect(user?.id).to.equal(victim.id);
    });

    it("holds a failure's answer once the address is past its free failures, while a right password from it is answered at once", async () => {
      const person = await signedUp(t.client);
      const held = t.client.signIn({ login: person.username, password: 'a wrong guess' }, new grpc.Metadata(), deadlineIn(800));
      let heldSettled = false;
      void held.catch(() => undefined).finally(() => (heldSettled = true));
      await t.client.signIn({ login: person.username, password: person.password });
      expect(heldSettled, 'the right password was answered while the failure was still held').to.equal(false);
      await expectStatus(held, status.DEADLINE_EXCEEDED);
    });
  });

  describe(`sign-up limit per address (${backend}, counters ${counters})`, function () {
    let t: TestServer;
    before(async function () {
      const started = await startTestServer(backend, { ...env(), AUTH_SIGNUP_MAX_PER_PEER: '3' });
      if (started === undefined) this.skip();
      t = started;
    });
    after(async () => t?.close());

    it('counts every attempt, a conflict too, and then answers RESOURCE_EXHAUSTED with the wait', async () => {
      const first = await signedUp(t.client);
      await expectStatus(t.client.signUp({ username: first.username, email: 'another@example.com', password: 'a long password' }), status.ALREADY_EXISTS);
      await signedUp(t.client);
      const refused = await expectStatus(signedUp(t.client), status.RESOURCE_EXHAUSTED, /^too many sign-ups from this address or in total; retry in \d+ s$/);
      expect(Number(refused.metadata.get('retry-after-seconds')[0])).to.be.within(3500, 3600);
      // Bad input is refused before it counts.
      await expectStatus(t.client.signUp({ username: 'x', email: 'x@example.com', password: 'a long password' }), status.INVALID_ARGUMENT, /^username: /);
    });
  });
}

describe('sign-in throttling per account (in-process service; the doubling itself: throttle.test.ts)', () => {
  let fixture: StoreFixture;
  beforeEach(async () => {
    fixture = (await openStoreFixture('SQLite'))!;
  });
  afterEach(() => fixture.dispose());

  async function retryDelay(promise: Promise<unknown>): Promise<number | undefined> {
    try {
      await promise;
    } catch (err) {
      return (err as { richDetails?: ErrorDetails }).richDetails?.retryDelayMs;
    }
    return expect.fail('succeeded');
  }

  it("refuses the account, right password included, with RetryInfo for its delay; other accounts on the same address are untouched", async () => {
    const { service, ctx } = await serviceOver(fixture.store, await createBcryptHasher(4), { freeAccountFailures: 1, baseDelayMs: 60_000, maxAccountDelayMs: 600_000 });
    for (const username of ['target', 'neighbour']) {
      await service.signIns.signUp({ username, email: `${username}@example.com`, password: 'the right password' }, ctx());
    }
    await retryDelay(service.signIns.signIn({ login: 'target', password: 'a wrong guess' }, ctx('attacker')));
    await retryDelay(service.signIns.signIn({ login: 'target', password: 'a wrong guess' }, ctx('attacker')));
    expect(await retryDelay(service.signIns.signIn({ login: 'target', password: 'the right password' }, ctx('owner')))).to.be.within(1, 60_000);
    await service.signIns.signIn({ login: 'neighbour', password: 'the right password' }, ctx('attacker'));
  });
});
