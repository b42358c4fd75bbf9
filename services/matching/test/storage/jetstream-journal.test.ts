import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Command, CommandResult, Engine } from '@orderbook/engine';
import { expect } from 'chai';
import { CANCEL_BATCH_ORDERS } from '../../src/api/session-orders';
import { JournaledCommandLoop } from '../../src/loop/command-loop';
import { CommandLoopFailedError } from '../../src/loop/errors';
import { openCommandLoop } from '../../src/loop/open-command-loop';
import { Sequencer } from '../../src/loop/sequencer';
import { SnapshotReplica } from '../../src/loop/snapshot-replica';
import { listJournalSegments } from '../../src/storage/data-files';
import { FileJournal, type SyncFile } from '../../src/storage/file-journal';
import { openDataDir } from '../../src/storage/file-storage';
import { JetStreamJournal } from '../../src/storage/jetstream-journal';
import { JetStreamLog, LogFencedError } from '../../src/storage/jetstream-log';
import { recover } from '../../src/storage/recovery';
import { rejectionOf, sampleCommands, silentLogger, tempDirs } from '../helpers';
import { LOAD_ENGINE_CONFIG, RandomLoad } from '../random-load';

/** The machine's NATS server (JetStream on); each test uses a stream of its own, deleted afterwards. */
const NATS_SERVERS = ['nats://127.0.0.1:4222'];

interface JetStreamHarness {
  readonly loop: JournaledCommandLoop;
  readonly engine: Engine;
  readonly journal: JetStreamJournal;
}

interface HarnessOptions {
  readonly snapshotEvery?: number;
  readonly sync?: SyncFile;
  readonly maxMessageBytes?: number;
}

async function openLog(stream: string): Promise<JetStreamLog> {
  return JetStreamLog.open({ servers: NATS_SERVERS, stream, replicas: 1 });
}

/** openCommandLoop's wiring on a JetStream journal, with the engine in reach and the local fsync replaceable. */
async function openJetStreamHarness(dataDir: string, stream: string, options: HarnessOptions = {}): Promise<JetStreamHarness> {
  const durable = await openDataDir(dataDir, { logger: silentLogger, ...(options.sync && { sync: options.sync }) });
  const journal = new JetStreamJournal({
    log: await openLog(stream),
    local: durable.journal,
    dir: dataDir,
    writerId: randomUUID(),
    logger: silentLogger,
    ...(options.maxMessageBytes && { maxMessageBytes: options.maxMessageBytes }),
  });
  const recovered = await recover({ journal, snapshots: durable.snapshots }, LOAD_ENGINE_CONFIG, silentLogger);
  await journal.resumeAfter(recovered.engine.lastSeq());
  const loop = new JournaledCommandLoop({
    engine: recovered.engine,
    journal,
    snapshots: durable.snapshots,
    replica: SnapshotReplica.recovered(recovered.rebuild, LOAD_ENGINE_CONFIG, silentLogger),
    sequencer: new Sequencer({ lastSeq: recovered.engine.lastSeq(), lastTimestamp: recovered.lastTimestamp }),
    snapshotSeq: recovered.snapshotSeq,
    lastTimestamp: recovered.lastTimestamp,
    maxQueueDepth: 10_000,
    snapshotEvery: options.snapshotEvery ?? 1_000_000,
    logger: silentLogger,
  });
  return { loop, engine: recovered.engine, journal };
}

const DEPOSIT = { kind: 'deposit', userId: 'ann', asset: 'USD', amount: 1n } as const;

/**
 * Submits commands of the load, `concurrent` at a time (so batches hold several), then a deposit:
 * rejected commands are answered before they are journaled, the deposit only once all are.
 */
async function run(loop: JournaledCommandLoop, load: RandomLoad, commands: number, concurrent = 1): Promise<void> {
  for (let done = 0; done < commands; done += concurrent) {
    const inputs = Array.from({ length: Math.min(concurrent, commands - done) }, () => load.next());
    const results: CommandResult[] = await Promise.all(inputs.map((input) => loop.submit(input)));
    inputs.forEach((input, i) => load.observe(input, results[i]));
  }
  await loop.submit(DEPOSIT);
}

describe('JetStream journal', function () {
  this.timeout(30_000);
  const tempDir = tempDirs();
  const streams: string[] = [];
  const newStream = (): string => {
    const name = `TEST_JOURNAL_${randomUUID().replaceAll('-', '')}`;
    streams.push(name);
    return name;
  };

  after(async () => {
    const nc = await connect({ servers: NATS_SERVERS });
    const jsm = await jetstreamManager(nc);
    for (const stream of streams) await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
  });

  it('recovers the same state from the stream alone, on a node with an empty data directory', async () => {
    const stream = newStream();
    const load = new RandomLoad(12);
    const leader = await openJetStreamHarness(tempDir(), stream);
    await run(leader.loop, load, 300, 8);
    const { engine } = leader;
    await leader.loop.close();

    const other = await openJetStreamHarness(tempDir(), stream);
    expect(other.engine.lastSeq()).to.equal(engine.lastSeq());
    expect(other.engine.stateHash()).to.equal(engine.stateHash());
    await other.loop.close();
  });

  it('recovers from a local snapshot plus the stream after it, then appends where the stream ends', async () => {
    const stream = newStream();
    const dataDir = tempDir();
    const load = new RandomLoad(5);
    const first = await openJetStreamHarness(dataDir, stream, { snapshotEvery: 40 });
    await run(first.loop, load, 200, 4);
    await first.loop.close();
    const second = await openJetStreamHarness(dataDir, stream, { snapshotEvery: 1_000 });
    expect(second.engine.stateHash()).to.equal(first.engine.stateHash());
    await run(second.loop, load, 50, 4);
    // A crash: no close, so no final snapshot; a third node replays the stream past the snapshot.
    await second.journal.close();
    const third = await openJetStreamHarness(dataDir, stream);
    expect(third.engine.lastSeq()).to.equal(second.engine.lastSeq());
    expect(third.engine.stateHash()).to.equal(second.engine.stateHash());
    await third.loop.close();
  });

  it('splits a batch over the message size limit into several messages and reads it back whole', async () => {
    const stream = newStream();
    const dataDir = tempDir();
    const log = await openLog(stream);
    const durable = await openDataDir(dataDir, { logger: silentLogger });
    const journal = new JetStreamJournal({ log, local: durable.journal, dir: dataDir, writerId: 'w', logger: silentLogger, maxMessageBytes: 300 });
    for await (const batch of journal.read(1)) expect.fail(`an empty stream read a batch of ${batch.length}`);
    await journal.resumeAfter(0);
    const commands = sampleCommands(1, 40);
    await journal.append(commands);
    expect((await log.bounds()).lastSeq).to.be.greaterThan(5);
    const reader = new JetStreamJournal({ log: await openLog(stream), local: new FileJournal(tempDir(), { logger: silentLogger }), dir: dataDir, writerId: 'r', logger: silentLogger });
    const read = [];
    for await (const batch of reader.read(1)) read.push(...batch);
    expect(read).to.deep.equal(commands);
    const fromMiddle = [];
    for await (const batch of reader.read(23)) fromMiddle.push(...batch);
    expect(fromMiddle[0].seq).to.be.at.most(23);
    expect(fromMiddle.at(-1)?.seq).to.equal(40);
    await journal.close();
    await reader.close();
  });

  it('carries a cancel-on-disconnect command of a whole cancel batch (10,000 ids) through the server and back; one ~12 times larger is refused before anything is published', async () => {
    const stream = newStream();
    const dataDir = tempDir();
    const log = await openLog(stream);
    const durable = await openDataDir(dataDir, { logger: silentLogger });
    const journal = new JetStreamJournal({ log, local: durable.journal, dir: dataDir, writerId: 'w', logger: silentLogger });
    for await (const read of journal.read(1)) expect.fail(`an empty stream read a batch of ${read.length}`);
    await journal.resumeAfter(0);
    const batch = (seq: number, ids: number): Command => ({
      kind: 'cancelSession',
      seq,
      timestamp: 1_700_000_000_000 + seq,
      userId: 'ann',
      orderIds: Array.from({ length: ids }, (_, i) => 2 ** 52 + i),
    });
    const commands = [batch(1, CANCEL_BATCH_ORDERS), batch(2, CANCEL_BATCH_ORDERS)];
    const reader = new JetStreamJournal({ log: await openLog(stream), local: new FileJournal(tempDir(), { logger: silentLogger }), dir: dataDir, writerId: 'r', logger: silentLogger });
    try {
      await journal.append(commands);
      const read = [];
      for await (const got of reader.read(1)) read.push(...got);
      expect(read).to.deep.equal(commands);

      const tooLarge = await rejectionOf(journal.append([batch(3, 12 * CANCEL_BATCH_ORDERS)]));
      expect(tooLarge.message).to.match(/command seq 3 encodes to \d+ bytes, over the stream's message limit/);
      expect((await log.bounds()).lastSeq).to.equal(1);
    } finally {
      await reader.close();
      await journal.close();
    }
  });

  it('refuses an append once another writer appended (fencing), and the loop stops with JOURNAL_FENCED', async () => {
    const stream = newStream();
    const load = new RandomLoad(7);
    const deposed = await openJetStreamHarness(tempDir(), stream);
    await run(deposed.loop, load, 20);
    const usurper = await openJetStreamHarness(tempDir(), stream);
    await run(usurper.loop, load, 5);

    const error = await rejectionOf(deposed.loop.submit(DEPOSIT));
    expect(error).to.be.instanceOf(CommandLoopFailedError);
    expect((error as CommandLoopFailedError).reason).to.equal('JOURNAL_FENCED');
    expect((error as CommandLoopFailedError).cause).to.be.instanceOf(LogFencedError);
    await deposed.loop.close();

    // The stream holds the usurper's commands and nothing of the deposed writer's last one.
    const check = await openJetStreamHarness(tempDir(), stream);
    expect(check.engine.stateHash()).to.equal(usurper.engine.stateHash());
    await usurper.loop.close();
    await check.loop.close();
  });

  it('answers a command only after the local fsync too: a failing local fsync fails it', async () => {
    const stream = newStream();
    const failingSync: SyncFile = () => Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    const harness = await openJetStreamHarness(tempDir(), stream, { sync: failingSync });
    const error = await rejectionOf(harness.loop.submit(DEPOSIT));
    expect(error).to.be.instanceOf(CommandLoopFailedError);
    expect((error as CommandLoopFailedError).reason).to.equal('JOURNAL_WRITE_FAILED');
    await harness.loop.close();
  });

  it('sets aside the local tail past the stream (never acknowledged) when the node comes back', async () => {
    const stream = newStream();
    const dataDir = tempDir();
    const load = new RandomLoad(9);
    const first = await openJetStreamHarness(dataDir, stream);
    await run(first.loop, load, 30);
    const streamEnd = first.engine.lastSeq();
    const streamHash = first.engine.stateHash();
    await first.journal.close();
    // Fsync'd locally but never acked by a quorum: the process died between the two.
    const local = new FileJournal(dataDir, { logger: silentLogger });
    for await (const batch of local.read(1)) expect(batch.length).to.be.greaterThan(0);
    await local.resumeAfter(streamEnd);
    await local.append([{ kind: 'deposit', seq: streamEnd + 1, timestamp: Date.now(), userId: 'ann', asset: 'USD', amount: 1n }]);
    await local.close();

    const back = await openJetStreamHarness(dataDir, stream);
    expect(back.engine.lastSeq()).to.equal(streamEnd);
    expect(back.engine.stateHash()).to.equal(streamHash);
    const aside = readdirSync(dataDir).filter((name) => name.startsWith('discarded-'));
    expect(aside).to.have.length(1);
    await run(back.loop, load, 10);
    await back.loop.close();
    // The new local copy runs from the stream's end on and holds what was acknowledged since.
    expect((await listJournalSegments(dataDir))[0].seq).to.equal(streamEnd + 1);
    const again = await openJetStreamHarness(dataDir, stream);
    expect(again.engine.stateHash()).to.equal(back.engine.stateHash());
    expect(readdirSync(dataDir).filter((name) => name.startsWith('discarded-'))).to.have.length(1);
    await again.loop.close();
  });

  it('is what openCommandLoop uses when given a stream', async () => {
    const stream = newStream();
    const dataDir = tempDir();
    const options = { dataDir, engineConfig: LOAD_ENGINE_CONFIG, maxQueueDepth: 100, snapshotEvery: 1_000, logger: silentLogger };
    const jetstream = { servers: NATS_SERVERS, stream, replicas: 1 };
    const loop = await openCommandLoop({ ...options, jetstream });
    await run(loop as JournaledCommandLoop, new RandomLoad(3), 10);
    await loop.close();
    const elsewhere = await openCommandLoop({ ...options, dataDir: tempDir(), jetstream });
    expect(elsewhere.queries.lastSeq()).to.equal(11);
    await elsewhere.close();
  });
});
