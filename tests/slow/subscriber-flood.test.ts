import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import type { RunningAuthServer } from '@orderbook/auth-service';
import { matching } from '@orderbook/proto';
import { AuthClient, bearer, MatchingClient } from '@orderbook/test-support';
import { startTestAuth, testMatchingEnv } from '../support/in-process-services';
import { rssMiB, startMatchingProcess, type ServingMatchingProcess } from '../support/matching-process';

/**
 * An attacker's flood of market-data streams against a matching process with a small heap
 * (--max-old-space-size=192): thousands of book streams that never read, over many connections,
 * plus connect/disconnect churn, while orders keep coming and honest readers read. Before the
 * bounded fan-out, 2,000 idle subscribers took the service to 1.7 GB and a 1 GiB heap aborted.
 * Now: it stays up, answers every order, stays within its memory, refuses streams past its limit
 * with RESOURCE_EXHAUSTED, and every reader's book ends equal to the engine's.
 */
const ADMIN_PASSWORD = 'admin-password-for-tests';
const IDLE = 2500;
const READERS = 100;
const MAX_STREAMS = IDLE + READERS + 50;
const CONNECTIONS = 25;
const ORDERS = 1500;
const HEAP_MB = 192;
/** Heap, code and the per-connection and per-stream buffers of HTTP/2, with a margin. */
const RSS_LIMIT_MB = 600;

type Book = Map<string, string>;

/** What a client keeps of a book stream: a snapshot replaces the book, an update changes one level. */
class BookReplica {
  bids: Book = new Map();
  sequence = 0n;
  error: grpc.ServiceError | undefined;

  constructor(readonly stream: grpc.ClientReadableStream<matching.StreamOrderBookResponse>) {
    stream.on('data', (message: matching.StreamOrderBookResponse) => {
      if (message.snapshot !== undefined) {
        this.bids = new Map(message.snapshot.bids.map((l) => [l.price, l.quantity]));
      } else if (message.update !== undefined) {
        if (message.sequence !== this.sequence + 1n) throw new Error(`gap: ${this.sequence} then ${message.sequence}`);
        if (message.update.quantity === '0') this.bids.delete(message.update.price);
        else this.bids.set(message.update.price, message.update.quantity);
      }
      this.sequence = message.sequence;
    });
    stream.on('error', (err: grpc.ServiceError) => (this.error = err));
  }
}

describe('subscriber flood against a small heap (separate process)', function () {
  this.timeout(180_000);
  let dir: string;
  let auth: RunningAuthServer;
  let authClient: AuthClient;
  let service: ServingMatchingProcess;
  const clients: MatchingClient[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orderbook-flood-'));
    auth = await startTestAuth(dir, ADMIN_PASSWORD);
    authClient = new AuthClient(auth.address);
    service = await startMatchingProcess(
      { ...testMatchingEnv(dir, auth), LOG_LEVEL: 'info', MATCHING_MAX_STREAMS: String(MAX_STREAMS), MATCHING_MAX_STREAMS_PER_PEER: String(MAX_STREAMS) },
      { nodeFlags: [`--max-old-space-size=${HEAP_MB}`] },
    );
    // grpc-js shares one connection among clients of one address unless each has its own subchannel
    // pool; a connection carries at most MATCHING_GRPC_MAX_CONCURRENT_STREAMS (1,000) streams.
    for (let i = 0; i < CONNECTIONS; i++) clients.push(new MatchingClient(service.address, undefined, { 'grpc.use_local_subchannel_pool': 1 }));
  });

  after(async () => {
    for (const client of clients) client.close();
    service.child.kill('SIGKILL');
    await service.exited;
    authClient.close();
    await auth.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('stays up and within its memory, answers every order, refuses streams past the limit, and readers end with the engine\'s book', async () => {
    const client = (i: number): MatchingClient => clients[i % clients.length]!;
    const admitted: Promise<unknown>[] = [];
    const idle = Array.from({ length: IDLE }, (_, i) => {
      const call = client(i).raw.streamOrderBook({ market: 'BTC-USD', depth: 1000 });
      // Read the snapshot, then never again (grpc-js would buffer for a stream never read at all).
      admitted.push(new Promise((resolve) => call.once('data', () => resolve(call.pause()))));
      call.on('error', () => undefined);
      return call;
    });
    const readers = Array.from({ length: READERS }, (_, i) => new BookReplica(client(i).raw.streamOrderBook({ market: 'BTC-USD', depth: 1000 })));
    // Every stream above holds its place once its snapshot arrived; only then may the extra ones be refused.
    admitted.push(...readers.map((reader) => new Promise((resolve) => reader.stream.once('data', resolve))));
    await Promise.all(admitted);

    const refused = await new Promise<grpc.ServiceError>((resolve) => {
      const extra = Array.from({ length: 100 }, (_, i) => client(i).raw.streamOrderBook({ market: 'BTC-USD', depth: 1 }));
      for (const call of extra) {
        call.on('data', () => undefined);
        call.on('error', (err: grpc.ServiceError) => resolve(err));
      }
    });
    expect(grpc.status[refused.code]).to.equal('RESOURCE_EXHAUSTED');
    expect(refused.details).to.match(/MATCHING_MAX_STREAMS/);

    await authClient.signUp({ username: 'flood', email: 'flood@example.com', password: 'flood-password' });
    const { user, tokens } = await authClient.signIn({ login: 'flood', password: 'flood-password' });
    const me = bearer(tokens!.accessToken);
    const admin = bearer((await authClient.signIn({ login: 'admin', password: ADMIN_PASSWORD })).tokens!.accessToken);
    await client(0).addFunds({ userId: user!.id, asset: 'USD', amount: '100000000' }, admin);

    // Churn: streams opened and cancelled in a loop while the orders go in.
    let churning = true;
    const churn = (async () => {
      for (let i = 0; churning; i++) {
        const call = client(i).raw.streamTrades({ market: 'BTC-USD' });
        call.on('error', () => undefined);
        await sleep(5);
        call.cancel();
      }
    })();
    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMiB(service.child.pid!))), 200);
    const worker = async (w: number): Promise<void> => {
      for (let i = w; i < ORDERS; i += 4) {
        await client(i).placeLimitOrder({ market: 'BTC-USD', side: matching.Side.SIDE_BUY, price: `${1 + (i % 300)}`, quantity: '0.01' }, me);
      }
    };
    await Promise.all([0, 1, 2, 3].map(worker));
    churning = false;
    await churn;

    const final = await client(0).getOrderBook({ market: 'BTC-USD', depth: 1000 });
    for (let waited = 0; waited < 30_000 && readers.some((r) => r.sequence < final.sequence); waited += 100) await sleep(100);
    clearInterval(sampler);
    const expected = new Map(final.bids.map((l) => [l.price, l.quantity]));
    for (const [i, reader] of readers.entries()) {
      expect(reader.error, `reader ${i}`).to.equal(undefined);
      expect(reader.bids, `reader ${i}'s book`).to.deep.equal(expected);
    }
    expect(service.child.exitCode, 'still running').to.equal(null);
    expect(peakRss, 'RSS in MiB').to.be.below(RSS_LIMIT_MB);
    for (const call of idle) call.cancel();
    for (const reader of readers) reader.stream.cancel();
  });
});
