import { mkdtempSync, rmSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { expect } from 'chai';
import type { EngineConfig } from '@orderbook/engine';
import { eventually } from '@orderbook/test-support';
import { listSnapshots } from '@orderbook/matching-service/src/storage/data-files';
import { NotLeaderError } from '@orderbook/matching-service/src/loop/errors';
import { openReplicatedLoop } from '@orderbook/matching-service/src/loop/open-replicated-loop';
import type { ReplicatedCommandLoop } from '@orderbook/matching-service/src/loop/replicated-loop';
import { silentLogger } from '@orderbook/matching-service/test/helpers';
import { LOAD_ENGINE_CONFIG, RandomLoad } from '@orderbook/matching-service/test/random-load';
import { NatsCluster } from '@orderbook/matching-service/test/nats-cluster';

const STREAM = 'REPLICATED_LOOP';
const LEASE = { key: 'matching', ttlMs: 2_000, renewEveryMs: 600, replicas: 3 };

/**
 * Two replicated command loops (leader and follower, each with its own data directory) on a
 * 3-node NATS cluster: the follower applies the leader's stream to the same state, restarts from
 * its own snapshot, and takes over when the leader goes.
 */
describe('replicated command loop: leader and follower on a 3-node JetStream cluster', function () {
  this.timeout(120_000);
  let cluster: NatsCluster;
  const dirs: string[] = [];
  const loops: ReplicatedCommandLoop[] = [];

  before(async () => {
    cluster = await NatsCluster.start(3);
  });
  after(async () => {
    for (const loop of loops) await loop.close().catch(() => undefined);
    await cluster.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function streamState(stream: string): Promise<{ first_seq: number; last_seq: number }> {
    const nc = await connect({ servers: cluster.urls });
    try {
      return (await (await jetstreamManager(nc)).streams.info(stream)).state;
    } finally {
      await nc.close();
    }
  }

  const newDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'replicated-loop-'));
    dirs.push(dir);
    return dir;
  };

  async function open(
    dataDir: string, address: string, retention?: { stream: string; retainCommands: number }, engineConfig: EngineConfig = LOAD_ENGINE_CONFIG,
  ): Promise<ReplicatedCommandLoop> {
    const stream = retention?.stream ?? STREAM;
    const loop = await openReplicatedLoop({
      dataDir,
      engineConfig,
      maxQueueDepth: 10_000,
      snapshotEvery: 300,
      logger: silentLogger,
      jetstream: { servers: cluster.urls, stream, replicas: 3 },
      lease: { ...LEASE, bucket: `${stream}_LEASE` },
      advertisedAddress: address,
      retainCommands: retention?.retainCommands ?? 0,
    });
    loops.push(loop);
    return loop;
  }

  async function drive(leader: ReplicatedCommandLoop, load: RandomLoad, commands: number): Promise<void> {
    for (let i = 0; i < commands; i += 50) {
      await Promise.all(Array.from({ length: 50 }, () => leader.submit(load.next())));
    }
  }

  const caughtUp = (follower: ReplicatedCommandLoop, leader: ReplicatedCommandLoop): Promise<true> =>
    eventually(() => (follower.queries.lastSeq() === leader.queries.lastSeq() ? true : undefined), 'the follower at the leader\'s seq', 30_000);

  it('keeps the follower at the leader\'s state hash, restarts it from its snapshot, and fails over to it', async () => {
    const leaderDir = newDir();
    const followerDir = newDir();
    const leader = await open(leaderDir, 'leader.example:1');
    expect(leader.role()).to.equal('leader');
    let follower = await open(followerDir, 'follower.example:2');
    expect(follower.role()).to.equal('follower');

    const load = new RandomLoad(12);
    await drive(leader, load, 1_500);
    await caughtUp(follower, leader);
    expect(follower.stateHash()).to.equal(leader.stateHash());

    const refused = await follower.submit(load.next()).then(
      () => expect.fail('a follower took a command'),
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(NotLeaderError);
    expect((refused as NotLeaderError).leaderAddress).to.equal('leader.example:1');

    // A follower restarted while the leader goes on recovers from its own snapshot and the stream.
    await follower.close();
    await drive(leader, load, 800);
    follower = await open(followerDir, 'follower.example:2');
    expect(follower.role()).to.equal('follower');
    await caughtUp(follower, leader);
    expect(follower.stateHash()).to.equal(leader.stateHash());

    // The leader stops (releasing its lease): the follower takes over, at the same state.
    const hash = leader.stateHash();
    const lastSeq = leader.queries.lastSeq();
    await leader.close();
    await eventually(() => (follower.role() === 'leader' ? true : undefined), 'the follower leading', 30_000);
    expect(follower.queries.lastSeq()).to.equal(lastSeq);
    expect(follower.stateHash()).to.equal(hash);
    await drive(follower, load, 100);
    expect(follower.queries.lastSeq()).to.equal(lastSeq + 100);

    // The old leader rejoins as a follower and catches up with the new one.
    const rejoined = await open(leaderDir, 'leader.example:1');
    expect(rejoined.role()).to.equal('follower');
    await caughtUp(rejoined, follower);
    expect(rejoined.stateHash()).to.equal(follower.stateHash());

    // A new replica seeded with a copy of another's snapshots starts from the newest and reads the stream after it.
    const seeded = newDir();
    const snapshotFiles = await listSnapshots(followerDir);
    expect(snapshotFiles.length).to.be.above(0);
    for (const file of snapshotFiles) await copyFile(file.path, join(seeded, basename(file.path)));
    const fromSnapshot = await open(seeded, 'seeded.example:3');
    expect(fromSnapshot.role()).to.equal('follower');
    await caughtUp(fromSnapshot, follower);
    expect(fromSnapshot.stateHash()).to.equal(follower.stateHash());
  });

  it('fires timers on the leader only, and on a new leader a switch that came due around the failover', async () => {
    const timers = { stream: 'TIMERS_LOOP', retainCommands: 0 };
    const leader = await open(newDir(), 'leader.example:1', timers);
    const follower = await open(newDir(), 'follower.example:2', timers);
    expect([leader.role(), follower.role()]).to.deep.equal(['leader', 'follower']);
    const placed = async (expireAt?: number): Promise<number> => {
      const base = { kind: 'placeLimit', userId: 'ann', market: 'BTC-USD', side: 'buy', price: 1_000_000n, quantity: 100_000_000n, postOnly: false, selfTradePrevention: 'cancel_resting' } as const;
      const result = await leader.submit(expireAt === undefined ? { ...base, timeInForce: 'GTC' } : { ...base, timeInForce: 'GTD', expireAt });
      if (!result.ok || result.value.kind !== 'placed') throw new Error('not placed');
      return result.value.order.orderId;
    };
    await leader.submit({ kind: 'deposit', userId: 'ann', asset: 'USD', amount: 10n ** 12n });
    const gtd = await placed(Date.now() + 200);
    // The leader fires the expiry; the follower applies the leader's expire command (it fires nothing itself).
    const expired = await eventually(() => (follower.queries.getOrder('ann', gtd)?.status === 'cancelled' ? follower.queries.getOrder('ann', gtd) : undefined), 'the expiry on the follower', 30_000);
    expect(expired.cancelReason).to.equal('expired');
    await caughtUp(follower, leader);
    expect(follower.stateHash()).to.equal(leader.stateHash());

    // A dead-man switch comes due around the handover: the follower fires it once it leads (at once if overdue).
    await leader.submit({ kind: 'cancelAllAfter', userId: 'ann', timeoutSeconds: 1 });
    const open2 = await placed();
    await caughtUp(follower, leader);
    const seq = leader.queries.lastSeq();
    await leader.close();
    await eventually(() => (follower.role() === 'leader' ? true : undefined), 'the follower leading', 30_000);
    const fired = await eventually(() => (follower.queries.getOrder('ann', open2)?.status === 'cancelled' ? follower.queries.getOrder('ann', open2) : undefined), 'the switch on the new leader', 30_000);
    expect(fired.cancelReason).to.equal('dead_man');
    expect(follower.queries.lastSeq()).to.equal(seq + 1);
  });

  it('with retention, drops from the stream only what the leader\'s snapshot covers; a replica seeded with that snapshot starts', async () => {
    const retention = { stream: 'RETAINED', retainCommands: 100 };
    const leaderDir = newDir();
    const leader = await open(leaderDir, 'leader.example:1', retention);
    expect(leader.role()).to.equal('leader');
    await drive(leader, new RandomLoad(34), 1_000);
    const { first_seq: firstMessage } = await eventually(
      async () => {
        const state = await streamState(retention.stream);
        return state.first_seq > 1 ? state : undefined;
      },
      'the stream trimmed after a snapshot',
      30_000,
    );
    expect(firstMessage).to.be.above(1);

    // An empty replica cannot start: the stream no longer holds the first commands.
    const empty = newDir();
    const refused = await open(empty, 'empty.example:2', retention).then(
      () => expect.fail('a replica started without the commands the stream dropped'),
      (err: unknown) => err as Error,
    );
    expect(refused.message).to.match(/missing/);

    // Seeded with the leader's newest snapshot, it starts and reaches the leader's state.
    const seeded = newDir();
    // Complete snapshots only (one may be in the writing); the newest covers what the stream dropped.
    const newest = (await listSnapshots(leaderDir)).at(-1)!;
    await copyFile(newest.path, join(seeded, basename(newest.path)));
    const follower = await open(seeded, 'seeded.example:3', retention);
    await caughtUp(follower, leader);
    expect(follower.stateHash()).to.equal(leader.stateHash());
  });

  it('journals the limits as a new stream\'s first command: a follower configured otherwise applies the leader\'s; promoted, it puts its own in force', async () => {
    const stream = { stream: 'LIMITS', retainCommands: 0 };
    const leader = await open(newDir(), 'leader.example:1', stream, { ...LOAD_ENGINE_CONFIG, maxOpenOrdersPerUserMarket: 3, maxStopsPerUserMarket: 2 });
    expect(leader.role()).to.equal('leader');
    expect(leader.queries.lastSeq()).to.equal(1);
    const follower = await open(newDir(), 'follower.example:2', stream, { ...LOAD_ENGINE_CONFIG, maxOpenOrdersPerUserMarket: 50 });
    await drive(leader, new RandomLoad(56), 600);
    await caughtUp(follower, leader);
    expect(follower.queries.limits()).to.deep.equal(leader.queries.limits());
    expect(follower.queries.limits().maxOpenOrdersPerUserMarket).to.equal(3);
    expect(follower.stateHash()).to.equal(leader.stateHash());

    const lastSeq = leader.queries.lastSeq();
    await leader.close();
    await eventually(() => (follower.queries.limits().maxOpenOrdersPerUserMarket === 50 ? true : undefined), 'the promoted follower\'s limits in force', 30_000);
    expect(follower.role()).to.equal('leader');
    expect(follower.queries.lastSeq()).to.equal(lastSeq + 1);
    expect(follower.queries.limits().maxStopsPerUserMarket).to.equal(1000);
  });
});
