import { expect } from 'chai';
import { MemoryThrottleStore } from '../src/throttle/memory-throttle-store';
import { RedisThrottleStore } from '../src/throttle/redis-throttle-store';
import { delayAfter, SignInThrottle } from '../src/throttle/sign-in-throttle';
import { SignUpLimit } from '../src/throttle/sign-up-limit';
import { ThrottleUnavailableError, type ThrottleStore } from '../src/throttle/throttle-store';
import { TEST_REDIS_URL, testRedisPrefix } from './helpers';

const silent = { info: () => undefined, warn: () => undefined };
const WINDOW = 60_000;

describe('delayAfter', () => {
  it('is 0 through the free failures, then doubles from the base up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => delayAfter(n, 3, 1000, 5000))).to.deep.equal([0, 0, 0, 1000, 2000, 4000, 5000]);
    expect(delayAfter(1_000_000, 0, 1000, 900_000)).to.equal(900_000);
  });
});

const stores: Array<[string, () => Promise<ThrottleStore>]> = [
  ['in-process', async () => new MemoryThrottleStore(WINDOW)],
  ['Redis', () => RedisThrottleStore.connect({ url: TEST_REDIS_URL, keyPrefix: testRedisPrefix(), failureWindowMs: WINDOW, logger: silent })],
];

for (const [name, open] of stores) {
  describe(`throttle counters (${name})`, () => {
    let store: ThrottleStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(() => store.close());

    it('counts failures per key with the time of the last, and clears them', async () => {
      expect(await store.failures('user:a', 1000)).to.deep.equal({ count: 0, lastFailureMs: 0 });
      expect(await store.addFailure(['user:a', 'peer:p'], 1000)).to.deep.equal([
        { count: 1, lastFailureMs: 1000 },
        { count: 1, lastFailureMs: 1000 },
      ]);
      await store.addFailure(['user:a', 'peer:p'], 2000);
      expect(await store.failures('user:a', 2000)).to.deep.equal({ count: 2, lastFailureMs: 2000 });
      await store.clearFailures('user:a');
      expect(await store.failures('user:a', 2000)).to.deep.equal({ count: 0, lastFailureMs: 0 });
      expect((await store.failures('peer:p', 2000)).count).to.equal(2);
    });

    it('counts hits in a fixed window and says when it ends', async () => {
      const now = Date.now();
      const first = await store.hit('signup:peer:x', 10_000, now);
      const second = await store.hit('signup:peer:x', 10_000, now + 100);
      expect([first.count, second.count]).to.deep.equal([1, 2]);
      expect(second.resetInMs).to.be.within(9000, 10_000);
    });

    it('forgets failures a window after the last one', async () => {
      const short = name === 'Redis'
        ? await RedisThrottleStore.connect({ url: TEST_REDIS_URL, keyPrefix: testRedisPrefix(), failureWindowMs: 50, logger: silent })
        : new MemoryThrottleStore(50);
      try {
        await short.addFailure(['k'], Date.now());
        expect((await short.failures('k', Date.now())).count).to.equal(1);
        await new Promise((resolve) => setTimeout(resolve, 120));
        expect((await short.failures('k', Date.now())).count).to.equal(0);
      } finally {
        await short.close();
      }
    });
  });
}

describe('Redis counters are shared by every instance', () => {
  it('counts failures recorded through two connections with one prefix as one', async () => {
    const prefix = testRedisPrefix();
    const options = { url: TEST_REDIS_URL, keyPrefix: prefix, failureWindowMs: WINDOW, logger: silent };
    const [a, b] = await Promise.all([RedisThrottleStore.connect(options), RedisThrottleStore.connect(options)]);
    try {
      await a.addFailure(['user:x'], 1);
      await b.addFailure(['user:x'], 2);
      expect(await a.failures('user:x', 2)).to.deep.equal({ count: 2, lastFailureMs: 2 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses to start when Redis cannot be reached, naming the variable', async () => {
    await RedisThrottleStore.connect({ url: 'redis://127.0.0.1:1', keyPrefix: 'x:', failureWindowMs: WINDOW, logger: silent }).then(
      () => expect.fail('connected'),
      (err: Error) => expect(err.message).to.match(/^AUTH_REDIS_URL: cannot reach Redis/),
    );
  });

  it('fails a command at once with ThrottleUnavailableError once the connection is gone', async () => {
    const store = await RedisThrottleStore.connect({ url: TEST_REDIS_URL, keyPrefix: testRedisPrefix(), failureWindowMs: WINDOW, logger: silent });
    await store.close();
    await store.failures('k', Date.now()).then(
      () => expect.fail('answered'),
      (err: unknown) => expect(err).to.be.instanceOf(ThrottleUnavailableError),
    );
  });
});

describe('SignInThrottle policy', () => {
  const policy = { freeAccountFailures: 2, freePeerFailures: 3, baseDelayMs: 100, maxAccountDelayMs: 1000, maxPeerDelayMs: 300 };

  it('makes an account wait a doubling delay after its free failures, counted from the last failure', async () => {
    const throttle = new SignInThrottle(new MemoryThrottleStore(WINDOW), policy);
    const now = Date.now();
    await throttle.failed('user:a', 'peer:1', now);
    await throttle.failed('user:a', 'peer:2', now);
    expect(await throttle.accountWaitMs('user:a', now)).to.equal(0);
    await throttle.failed('user:a', 'peer:3', now);
    expect(await throttle.accountWaitMs('user:a', now + 40)).to.equal(60);
    await throttle.failed('user:a', 'peer:4', now + 100);
    expect(await throttle.accountWaitMs('user:a', now + 100)).to.equal(200);
    await throttle.succeeded('user:a');
    expect(await throttle.accountWaitMs('user:a', now + 100)).to.equal(0);
  });

  it("delays a peer's failure answers after its free failures, whatever the accounts, and never blocks its other accounts", async () => {
    const throttle = new SignInThrottle(new MemoryThrottleStore(WINDOW), policy);
    const now = Date.now();
    const holds: number[] = [];
    for (let i = 0; i < 6; i += 1) holds.push(await throttle.failed(`user:${i}`, 'peer:nat', now));
    expect(holds).to.deep.equal([0, 0, 0, 100, 200, 300]);
    expect(await throttle.accountWaitMs('user:someone-else', now), "the peer's failures do not close other accounts").to.equal(0);
  });
});

describe('SignUpLimit', () => {
  it('refuses past the per-peer and the total limit, with the wait until the window ends', async () => {
    const limit = new SignUpLimit(new MemoryThrottleStore(WINDOW), { maxPerPeer: 2, maxTotal: 3, windowMs: 10_000 });
    const now = Date.now();
    expect(await limit.attempt('a', now)).to.equal(0);
    expect(await limit.attempt('a', now)).to.equal(0);
    expect(await limit.attempt('a', now)).to.be.within(9000, 10_000);
    expect(await limit.attempt('b', now)).to.equal(0);
    expect(await limit.attempt('c', now), 'total reached').to.be.greaterThan(0);
  });
});
