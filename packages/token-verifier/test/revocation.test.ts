import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { auth } from '@orderbook/proto';
import {
  RevocationFeedDownError,
  RevocationWatcher,
  SessionRevokedError,
  withRevocationCheck,
  type FeedState,
  type TokenVerifier,
  type VerifiedIdentity,
} from '../src';

const identity = (sessionId: string, issuedAt: number): VerifiedIdentity => ({ userId: 'u', sessionId, roles: ['trader'], tokenId: 't', issuedAt, expiresAt: issuedAt + 900_000 });

/** Accepts tokens "<session>@<issuedAt>". */
const verifier: TokenVerifier = {
  verify: async (token) => {
    const [sessionId, issuedAt] = token.split('@');
    return identity(sessionId ?? '', Number(issuedAt));
  },
  close: () => undefined,
};

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('accepted'),
    (err: unknown) => err,
  );
}

describe('withRevocationCheck', () => {
  let revoked: Set<string>;
  let feed: FeedState;
  let now: number;
  const source = { isRevoked: (sessionId: string) => revoked.has(sessionId), state: () => feed };
  beforeEach(() => {
    revoked = new Set();
    feed = { up: true, completeUntilMs: 0 };
    now = 1_000_000;
  });

  it("refuses a revoked session's tokens, and only those", async () => {
    const checked = withRevocationCheck(verifier, source, { fallbackMaxAgeMs: 60_000, now: () => now });
    revoked.add('s1');
    expect(await rejection(checked.verify('s1@999000'))).to.be.instanceOf(SessionRevokedError);
    expect((await checked.verify('s2@999000')).sessionId).to.equal('s2');
  });

  it('while the feed is down, accepts a token only if it or the last word from the feed is younger than the fallback age', async () => {
    const checked = withRevocationCheck(verifier, source, { fallbackMaxAgeMs: 60_000, now: () => now });
    feed = { up: false, completeUntilMs: now - 10_000 };
    expect((await checked.verify(`s@${now - 3_600_000}`)).sessionId, 'an old token, but the feed fell silent 10 s ago').to.equal('s');
    feed = { up: false, completeUntilMs: now - 60_000 };
    expect(await rejection(checked.verify(`s@${now - 60_000}`))).to.be.instanceOf(RevocationFeedDownError);
    expect((await checked.verify(`s@${now - 59_999}`)).sessionId, 'a token issued within the fallback age').to.equal('s');
    feed = { up: false, completeUntilMs: 0 };
    expect(await rejection(checked.verify(`s@${now - 61_000}`)), 'never heard from the feed').to.be.instanceOf(RevocationFeedDownError);
  });

  it('knows a remembered identity without waiting only when verify() would accept it now', () => {
    const remembered: TokenVerifier = { ...verifier, known: (token) => (token.startsWith('s') ? identity(token.split('@')[0] ?? '', Number(token.split('@')[1])) : undefined) };
    const checked = withRevocationCheck(remembered, source, { fallbackMaxAgeMs: 60_000, now: () => now });
    expect(checked.known?.('s1@999000')?.sessionId).to.equal('s1');
    expect(checked.known?.('x@999000'), 'not remembered').to.equal(undefined);
    revoked.add('s1');
    expect(checked.known?.('s1@999000'), 'revoked').to.equal(undefined);
    feed = { up: false, completeUntilMs: 0 };
    expect(checked.known?.(`s2@${now - 61_000}`), 'feed down, token too old').to.equal(undefined);
    expect(checked.known?.(`s2@${now - 1_000}`)?.sessionId).to.equal('s2');
    expect(withRevocationCheck(verifier, source, { fallbackMaxAgeMs: 0 }).known?.('s2@1'), 'an inner verifier that knows nothing').to.equal(undefined);
  });

  it('trusts tokens until they expire when the fallback is off (0), and whenever the feed is up', async () => {
    feed = { up: false, completeUntilMs: 0 };
    expect((await withRevocationCheck(verifier, source, { fallbackMaxAgeMs: 0, now: () => now }).verify('s@1')).sessionId).to.equal('s');
    feed = { up: true, completeUntilMs: 0 };
    expect((await withRevocationCheck(verifier, source, { fallbackMaxAgeMs: 1, now: () => now }).verify('s@1')).sessionId).to.equal('s');
  });
});

/** A stand-in auth service whose WatchRevocations sends what the test pushes, and records the cursors asked for. */
class FeedServer {
  readonly cursors: bigint[] = [];
  private calls: Array<grpc.ServerWritableStream<auth.WatchRevocationsRequest, auth.WatchRevocationsResponse>> = [];
  private server = new grpc.Server();
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = new grpc.Server();
    this.server.addService(auth.AuthServiceService, {
      watchRevocations: (call: grpc.ServerWritableStream<auth.WatchRevocationsRequest, auth.WatchRevocationsResponse>) => {
        this.cursors.push(call.request.afterCursor);
        this.calls.push(call);
        call.write({ revoked: [], cursor: call.request.afterCursor });
      },
    } as grpc.UntypedServiceImplementation);
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
  }

  push(sessionIds: readonly string[], cursor: bigint, relevantUntilMs = Date.now() + 60_000): void {
    for (const call of this.calls) {
      call.write({ revoked: sessionIds.map((sessionId) => ({ sessionId, revokedAtUnixMs: BigInt(Date.now()), relevantUntilUnixMs: BigInt(relevantUntilMs) })), cursor });
    }
  }

  stop(): void {
    this.calls = [];
    this.server.forceShutdown();
  }
}

async function until(probe: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('RevocationWatcher', () => {
  let server: FeedServer;
  let watcher: RevocationWatcher | undefined;
  beforeEach(async () => {
    server = new FeedServer();
    await server.start();
  });
  afterEach(() => {
    watcher?.close();
    server.stop();
  });

  it('learns revoked sessions, reports them, and forgets those whose tokens have expired', async () => {
    const learned: string[] = [];
    watcher = new RevocationWatcher({ authAddress: `127.0.0.1:${server.port}`, onRevoked: (ids) => learned.push(...ids) });
    await until(() => watcher!.state().up, 'the feed to be up');
    server.push(['a', 'b'], 2n);
    server.push(['stale'], 3n, Date.now() - 1);
    await until(() => watcher!.isRevoked('b'), 'b to be revoked');
    expect(learned).to.deep.equal(['a', 'b']);
    expect(watcher.isRevoked('stale')).to.equal(false);
    expect(watcher.isRevoked('a')).to.equal(true);
  });

  it('goes down when the stream ends, reconnects, and resumes from the last cursor', async () => {
    const states: boolean[] = [];
    watcher = new RevocationWatcher({ authAddress: `127.0.0.1:${server.port}`, reconnectMinMs: 20, reconnectMaxMs: 50, onStateChange: (up) => states.push(up) });
    await until(() => watcher!.state().up, 'the feed to be up');
    server.push(['a'], 7n);
    await until(() => watcher!.isRevoked('a'), 'a to be revoked');
    const heard = watcher.state().completeUntilMs;
    const port = server.port;
    server.stop();
    await until(() => !watcher!.state().up, 'the feed to go down');
    expect(watcher.state().completeUntilMs).to.equal(heard);
    server = new FeedServer();
    await server.start(port);
    await until(() => watcher!.state().up, 'the feed to come back');
    expect(server.cursors).to.deep.equal([7n]);
    expect(states).to.deep.equal([true, false, true]);
    expect(watcher.isRevoked('a'), 'what it learned before stays').to.equal(true);
  });

  it('counts a silent stream as down (no heartbeat within staleAfterMs)', async () => {
    watcher = new RevocationWatcher({ authAddress: `127.0.0.1:${server.port}`, staleAfterMs: 100 });
    await until(() => watcher!.state().up, 'the feed to be up');
    await until(() => !watcher!.state().up, 'the silent feed to count as down');
  });
});
