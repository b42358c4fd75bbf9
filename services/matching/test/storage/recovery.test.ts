import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { Engine, SnapshotInvalidError, type CommandResult } from '@orderbook/engine';
import { frameSections, readSections } from '@orderbook/engine/src/snapshot';
import { expect } from 'chai';
import type { CommandLoop } from '../../src/loop/command-loop-api';
import { decodeBatch } from '../../src/storage/command-codec';
import { journalPath, listJournalSegments, listSnapshots } from '../../src/storage/data-files';
import { FileJournal } from '../../src/storage/file-journal';
import { JournalCorruptError } from '../../src/storage/journal';
import { openCommandLoop } from '../../src/loop/open-command-loop';
import { recoverDataDir, rejectionOf, silentLogger, tempDirs } from '../helpers';
import { openHarness } from '../loop-harness';
import { LOAD_ENGINE_CONFIG, RandomLoad } from '../random-load';

const tempDir = tempDirs();

async function run(loop: CommandLoop, load: RandomLoad, commands: number): Promise<void> {
  for (let i = 0; i < commands; i++) {
    const input = load.next();
    const result: CommandResult = await loop.submit(input);
    load.observe(input, result);
  }
}

interface CrashedDir {
  readonly dataDir: string;
  readonly liveHash: string;
  readonly lastSeq: number;
  /** Seqs of the two snapshots kept, older first. */
  readonly snapshots: readonly number[];
}

/**
 * A data dir from a loop that wrote snapshots every 50 commands and closed (final snapshot), then
 * a second loop that journaled 37 more commands and "crashed": no close, so no final snapshot.
 */
async function crashedDataDir(): Promise<CrashedDir> {
  const dataDir = tempDir();
  const load = new RandomLoad(3);
  const first = await openHarness(dataDir, { snapshotEvery: 50 });
  await run(first.loop, load, 200);
  await first.loop.close();
  const second = await openHarness(dataDir, { snapshotEvery: 1_000 });
  await run(second.loop, load, 37);
  await second.journal.close();
  const snapshots = (await listSnapshots(dataDir)).map((s) => s.seq);
  expect(snapshots).to.have.length(2);
  return { dataDir, liveHash: second.engine.stateHash(), lastSeq: second.engine.lastSeq(), snapshots };
}

/** Journal segments of deposits only (valid on an empty engine) starting at the given seqs. */
async function depositSegments(dataDir: string, firstSeqs: readonly number[], perSegment: number): Promise<void> {
  for (const firstSeq of firstSeqs) {
    const journal = new FileJournal(dataDir, { logger: silentLogger });
    await journal.roll(firstSeq);
    await journal.append(Array.from({ length: perSegment }, (_, i) => ({ kind: 'deposit', seq: firstSeq + i, timestamp: 1, userId: 'ann', asset: 'USD', amount: 5n }) as const));
    await journal.close();
  }
}

describe('recovery', () => {
  it('starts an empty data dir at seq 0', async () => {
    const recovered = await recoverDataDir(tempDir());
    expect(recovered.engine.lastSeq()).to.equal(0);
    expect(recovered.rebuild).to.deep.equal({ snapshotState: undefined, replayed: [] });
    await recovered.journal.resumeAfter(recovered.engine.lastSeq());
    expect(recovered.journal.appendSegment()).to.equal(1);
    await recovered.journal.close();
  });

  it('loads the newest snapshot and replays the journal tail to the live state hash', async () => {
    const { dataDir, liveHash, lastSeq, snapshots } = await crashedDataDir();
    const recovered = await recoverDataDir(dataDir);
    expect(recovered.snapshotSeq).to.equal(snapshots[1]);
    expect(recovered.replayedCommands).to.equal(lastSeq - snapshots[1]);
    expect(recovered.replayedCommands).to.be.greaterThan(0);
    expect(recovered.engine.stateHash()).to.equal(liveHash);
  });

  it('hands over what it rebuilt the state from: the snapshot it restored plus the commands it replayed give the same state', async () => {
    const { dataDir, liveHash, lastSeq, snapshots } = await crashedDataDir();
    const { rebuild } = await recoverDataDir(dataDir);
    const engine = Engine.restore(LOAD_ENGINE_CONFIG, rebuild.snapshotState!);
    expect(engine.lastSeq()).to.equal(snapshots[1]);
    for (const batch of rebuild.replayed) for (const command of decodeBatch(Buffer.from(batch))) engine.apply(command);
    expect([engine.lastSeq(), engine.stateHash()]).to.deep.equal([lastSeq, liveHash]);
  });

  it('falls back to the previous snapshot when the newest is corrupt, to the same state', async () => {
    const { dataDir, liveHash, snapshots } = await crashedDataDir();
    const [, newest] = await listSnapshots(dataDir);
    const bytes = readFileSync(newest.path);
    bytes[Math.floor(bytes.length / 2)] ^= 0x10;
    writeFileSync(newest.path, bytes);
    const recovered = await recoverDataDir(dataDir);
    expect(recovered.snapshotSeq).to.equal(snapshots[0]);
    expect(recovered.engine.stateHash()).to.equal(liveHash);
  });

  it('falls back to the previous snapshot when the newest is intact but its locks are not what its orders reserve', async () => {
    const { dataDir, liveHash, snapshots } = await crashedDataDir();
    const [, newest] = await listSnapshots(dataDir);
    const file = readFileSync(newest.path);
    const header = file.subarray(0, 28);
    const sections = readSections(file.subarray(28));
    const accounts = Buffer.from(sections.get('ACCT')!);
    // The first account's first asset: after its user id, available then locked.
    const lockedAt = 4 + accounts.readUInt32LE(0) + 8;
    accounts.writeBigUInt64LE(accounts.readBigUInt64LE(lockedAt) + 1n, lockedAt);
    const framed = frameSections([...sections].map(([tag, payload]) => ({ tag, payload: tag === 'ACCT' ? accounts : payload })));
    writeFileSync(newest.path, Buffer.concat([header, ...framed]));
    expect(() => Engine.restore(LOAD_ENGINE_CONFIG, Buffer.concat(framed))).to.throw(SnapshotInvalidError, /locked but its open orders reserve/);
    const recovered = await recoverDataDir(dataDir);
    expect(recovered.snapshotSeq).to.equal(snapshots[0]);
    expect(recovered.engine.stateHash()).to.equal(liveHash);
  });

  it('reopens through openCommandLoop and goes on where it left off', async () => {
    const { dataDir, lastSeq } = await crashedDataDir();
    const options = { dataDir, engineConfig: LOAD_ENGINE_CONFIG, maxQueueDepth: 10, snapshotEvery: 50, logger: silentLogger };
    const loop = await openCommandLoop(options);
    expect(loop.queries.lastSeq()).to.equal(lastSeq);
    const next = await loop.submit({ kind: 'deposit', userId: 'ann', asset: 'USD', amount: 1n });
    expect(next.ok).to.equal(true);
    await loop.close();
    const again = await recoverDataDir(dataDir);
    expect(again.engine.lastSeq()).to.equal(lastSeq + 1);
  });

  it('replays a journal without snapshots from seq 1', async () => {
    const dataDir = tempDir();
    await depositSegments(dataDir, [1, 4], 3);
    const recovered = await recoverDataDir(dataDir);
    expect(recovered.engine.lastSeq()).to.equal(6);
    expect(recovered.rebuild.snapshotState).to.equal(undefined);
    expect(recovered.rebuild.replayed.flatMap((batch) => decodeBatch(Buffer.from(batch)).map((c) => c.seq))).to.deep.equal([1, 2, 3, 4, 5, 6]);
    await recovered.journal.resumeAfter(recovered.engine.lastSeq());
    expect(recovered.journal.appendSegment()).to.equal(4);
    await recovered.journal.close();
  });

  it('refuses to start when no snapshot is readable and the journal before them is gone', async () => {
    const { dataDir } = await crashedDataDir();
    for (const snapshot of await listSnapshots(dataDir)) writeFileSync(snapshot.path, '{"seq":');
    const error = await rejectionOf(recoverDataDir(dataDir));
    expect(error).to.be.instanceOf(JournalCorruptError);
    expect(error.message).to.match(/commands 1\.\.\d+ are missing/);
  });

  it('refuses to start when a journal segment is missing between others', async () => {
    const dataDir = tempDir();
    await depositSegments(dataDir, [1, 4, 7], 3);
    rmSync(journalPath(dataDir, 4));
    const error = await rejectionOf(recoverDataDir(dataDir));
    expect(error).to.be.instanceOf(JournalCorruptError);
    expect(error.message).to.match(/starts at seq 7 but the one before ends at seq 3/);
  });

  it('refuses to start when the journal ends before what the newest snapshot proves was durable', async () => {
    const { dataDir, snapshots } = await crashedDataDir();
    const [, newest] = await listSnapshots(dataDir);
    writeFileSync(newest.path, 'damaged');
    for (const segment of await listJournalSegments(dataDir)) {
      if (segment.seq === snapshots[0] + 1) truncateSync(segment.path, 0);
      else rmSync(segment.path);
    }
    const error = await rejectionOf(recoverDataDir(dataDir));
    expect(error).to.be.instanceOf(JournalCorruptError);
    expect(error.message).to.match(/were durable/);
  });
});
