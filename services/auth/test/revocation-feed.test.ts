import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import type { auth } from '@orderbook/proto';
import { BACKENDS, signedIn, startTestServer, type TestServer } from './helpers';

/** A WatchRevocations call whose messages are collected as they arrive. */
class Watch {
  readonly messages: auth.WatchRevocationsResponse[] = [];
  readonly ended: Promise<grpc.StatusObject>;
  private readonly call: grpc.ClientReadableStream<auth.WatchRevocationsResponse>;

  constructor(client: auth.AuthServiceClient, afterCursor = 0n) {
    this.call = client.watchRevocations({ afterCursor });
    this.call.on('data', (message: auth.WatchRevocationsResponse) => this.messages.push(message));
    this.call.on('error', () => undefined);
    this.ended = new Promise((resolve) => this.call.on('status', resolve));
  }

  revoked(): string[] {
    return this.messages.flatMap((message) => message.revoked.map((event) => event.sessionId));
  }

  cursor(): bigint {
    return this.messages[this.messages.length - 1]?.cursor ?? 0n;
  }

  async until<T>(probe: () => T | undefined, what: string): Promise<T> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.revoked())}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  cancel(): void {
    this.call.cancel();
  }
}

const sessionOf = (accessToken: string): string => String(decodeJwt(accessToken)['sid']);

for (const backend of BACKENDS) {
  describe(`WatchRevocations (${backend})`, function () {
    let t: TestServer;
    const watches: Watch[] = [];
    const watch = (afterCursor?: bigint): Watch => {
      const opened = new Watch(t.client.raw, afterCursor);
      watches.push(opened);
      return opened;
    };

    before(async function () {
      const started = await startTestServer(backend);
      if (started === undefined) this.skip();
      t = started;
    });
    afterEach(() => {
      for (const opened of watches.splice(0)) opened.cancel();
    });
    after(async () => t?.close());

    it('answers at once with the cursor, then sends each revoked session as it happens', async () => {
      const feed = watch();
      await feed.until(() => (feed.messages.length > 0 ? true : undefined), 'the first message');
      const person = await signedIn(t.client);
      await t.client.signOut(person.tokens.refreshToken);
      const sid = sessionOf(person.tokens.accessToken);
      await feed.until(() => (feed.revoked().includes(sid) ? true : undefined), 'the revocation');
      const event = feed.messages.flatMap((message) => message.revoked).find((e) => e.sessionId === sid);
      expect(Number(event?.relevantUntilUnixMs) - Number(event?.revokedAtUnixMs)).to.equal((900 + 60) * 1000);
    });

    it('sends a new watcher every revocation that still matters, and one resuming from a cursor only what came after it', async () => {
      const person = await signedIn(t.client);
      await t.client.signOut(person.tokens.refreshToken);
      const first = watch();
      const sid = sessionOf(person.tokens.accessToken);
      await first.until(() => (first.revoked().includes(sid) ? true : undefined), 'the backlog');
      const cursor = first.cursor();
      first.cancel();

      const later = await signedIn(t.client);
      await t.client.signOutEverywhere(later.metadata);
      const resumed = watch(cursor);
      const laterSid = sessionOf(later.tokens.accessToken);
      await resumed.until(() => (resumed.revoked().includes(laterSid) ? true : undefined), 'the revocation after the cursor');
      expect(resumed.revoked()).to.not.include(sid);
    });

    it('bounds the watchers from one address (16): the next one gets RESOURCE_EXHAUSTED', async () => {
      const open = Array.from({ length: 16 }, () => watch());
      await Promise.all(open.map((feed) => feed.until(() => (feed.messages.length > 0 ? true : undefined), 'a watcher to start')));
      const refused = await watch().ended;
      expect(grpc.status[refused.code]).to.equal('RESOURCE_EXHAUSTED');
      expect(refused.details).to.match(/too many revocation watchers from your address/);
    });
  });
}

describe('WatchRevocations at shutdown', () => {
  it('ends every watch with UNAVAILABLE at once, so that shutdown does not wait for them', async () => {
    const t = (await startTestServer('SQLite', { AUTH_SHUTDOWN_GRACE_MS: '30000' }))!;
    const feed = new Watch(t.client.raw);
    await feed.until(() => (feed.messages.length > 0 ? true : undefined), 'the watch to start');
    const stopping = t.close();
    const status = await feed.ended;
    expect(grpc.status[status.code]).to.equal('UNAVAILABLE');
    expect(status.details).to.match(/shutting down/);
    await stopping;
  });
});
