import { readdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import { BalanceFaultError, type BalanceView, type Command, type CommandResult, Engine, type EngineEvent } from '@orderbook/engine';
import { expect } from 'chai';
import type { JournaledCommandLoop } from '../../src/loop/command-loop';
import type { CommandInput } from '../../src/loop/command-loop-api';
import { CommandLoopFailedError, OverloadedError, ShuttingDownError } from '../../src/loop/errors';
import { decodeBatch } from '../../src/storage/command-codec';
import { listJournalSegments, listSnapshots } from '../../src/storage/data-files';
import { readSegment } from '../../src/storage/journal-reader';
import { readSnapshot } from '../../src/storage/snapshot-store';
import { recoverDataDir, rejectionOf, sampleCommands, silentLogger, tempDirs } from '../helpers';
import { GatedSync, openHarness, settle } from '../loop-harness';
import { LOAD_ENGINE_CONFIG, RandomLoad } from '../random-load';

const tempDir = tempDirs();
const deposit = (userId: string): CommandInput => ({ kind: 'deposit', userId, asset: 'USD', amount: 100_000_000n });
const usd = (balances: readonly BalanceView[]): bigint | undefined =>
  balances.find((b) => b.asset === 'USD')?.available;
const cancelUnknown: CommandInput = { kind: 'cancel', userId: 'ann', orderId: 999_999 };

/** Tracks whether a promise has settled, without awaiting it. */
function watch<T>(promise: Promise<T>): { readonly settled: () => boolean; readonly promise: Promise<T> } {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { settled: () => settled, promise };
}

async function journaledCommands(dataDir: string): Promise<Command[]> {
  const segments = await listJournalSegments(dataDir);
  const commands: Command[] = [];
  for (const [i, segment] of segments.entries()) {
    for (const payload of await readSegment(segment, i === segments.length - 1, { logger: silentLogger })) commands.push(...decodeBatch(payload));
  }
  return commands;
}

async function journaledSeqs(dataDir: string): Promise<number[]> {
  return (await journaledCommands(dataDir)).map((c) => c.seq);
}

describe('command loop', () => {
  it('answers a command and delivers its events only after its journal record is fsynced', async () => {
    const gated = new GatedSync();
    const { loop } = await openHarness(tempDir(), { sync: gated.sync });
    const delivered: Array<[number, readonly EngineEvent[]]> = [];
    loop.onEvents((seq, events) => delivered.push([seq, events]));

    gated.hold();
    const pending = watch(loop.submit(deposit('ann')));
    // Until the write reached the fsync: a loaded machine (the snapshot replica's thread starting too) may take a while.
    while (gated.calls === 0) await settle();
    expect(gated.calls, 'fsync started').to.equal(1);
    expect(pending.settled()).to.equal(false);
    expect(delivered).to.deep.equal([]);
    expect(loop.queueDepth()).to.equal(1);
    expect(usd(loop.queries.balances('ann')), 'applied in memory already').to.equal(100_000_000n);

    gated.release();
    const result = await pending.promise;
    expect(result.ok).to.equal(true);
    expect(delivered.map(([seq]) => seq)).to.deep.equal([1]);
    expect(delivered[0][1]).to.deep.equal(result.ok && result.events);
    expect(loop.queueDepth()).to.equal(0);
    await loop.close();
  });

  it('group-commits concurrent commands: fewer fsyncs than commands, answers and events in seq order', async () => {
    const { loop, journal } = await openHarness(tempDir());
    const load = new RandomLoad(7);
    const answered: number[] = [];
    const eventSeqs: number[] = [];
    loop.onEvents((seq) => eventSeqs.push(seq));
    const inputs = Array.from({ length: 300 }, () => load.next());
    const results = await Promise.all(
      inputs.map((input, i) =>
        loop.submit(input).then((result) => {
          if (result.ok) answered.push(i);
          return result;
        }),
      ),
    );
    const stats = journal.stats();
    expect(stats.batches).to.be.greaterThan(0).and.lessThan(stats.commands);
    expect(stats.commands).to.equal(loop.queries.lastSeq());
    // Rejections are answered at once; durable commands in the order they were submitted.
    expect(answered).to.deep.equal([...answered].sort((a, b) => a - b));
    expect(eventSeqs).to.deep.equal([...eventSeqs].sort((a, b) => a - b));
    expect(new Set(eventSeqs).size).to.equal(results.filter((r) => r.ok).length);
    await loop.close();
  });

  it('gives a placed order the id of its seq, with timestamps that never decrease', async () => {
    const { loop } = await openHarness(tempDir());
    await loop.submit({ kind: 'deposit', userId: 'ann', asset: 'USD', amount: 10n ** 15n });
    const stamps: number[] = [];
    for (let i = 0; i < 5; i++) {
      const placed = await loop.submit({
        kind: 'placeLimit',
        userId: 'ann',
        market: 'BTC-USD',
        side: 'buy',
        price: 1_000_000n,
        quantity: 100_000_000n,
        timeInForce: 'GTC',
        postOnly: false,
        selfTradePrevention: 'cancel_resting',
      });
      if (!placed.ok || placed.value.kind !== 'placed') throw new Error('expected a placed order');
      expect(placed.value.order.orderId).to.equal(loop.queries.lastSeq());
      stamps.push(placed.value.order.createdAt);
    }
    expect(stamps).to.deep.equal([...stamps].sort((a, b) => a - b));
    await loop.close();
  });

  it('answers a rejected command at once, even while earlier commands wait for their fsync', async () => {
    const gated = new GatedSync();
    const dataDir = tempDir();
    const { loop } = await openHarness(dataDir, { sync: gated.sync });
    gated.hold();
    const durable = watch(loop.submit(deposit('ann')));
    const rejected = await loop.submit(cancelUnknown);
    expect(rejected.ok).to.equal(false);
    expect(durable.settled()).to.equal(false);
    gated.release();
    await durable.promise;
    const lastSeq = loop.queries.lastSeq();
    await loop.close();

    // Either the engine spent no seq on the rejection (and nothing was journaled), or it did and
    // the journal holds it; both replay to the same state.
    const seqs = await journaledSeqs(dataDir);
    expect(seqs).to.deep.equal(Array.from({ length: lastSeq }, (_, i) => i + 1));
  });

  it('rejects with OverloadedError at once when maxQueueDepth commands are waiting', async () => {
    const gated = new GatedSync();
    const { loop } = await openHarness(tempDir(), { sync: gated.sync, maxQueueDepth: 3 });
    gated.hold();
    const waiting = [1, 2, 3].map((i) => loop.submit(deposit(`user-${i}`)));
    expect(loop.queueDepth()).to.equal(3);
    const lastSeq = loop.queries.lastSeq();
    expect(await rejectionOf(loop.submit(deposit('late')))).to.be.instanceOf(OverloadedError);
    expect(loop.queries.lastSeq(), 'the refused command was not applied').to.equal(lastSeq);
    gated.release();
    await Promise.all(waiting);
    expect(loop.queueDepth()).to.equal(0);
    expect((await loop.submit(deposit('late'))).ok).to.equal(true);
    await loop.close();
  });

  it('close() refuses new commands, answers the queued ones, writes a final snapshot', async () => {
    const gated = new GatedSync();
    const dataDir = tempDir();
    const { loop } = await openHarness(dataDir, { sync: gated.sync });
    gated.hold();
    const queued = [1, 2, 3, 4, 5].map((i) => loop.submit(deposit(`user-${i}`)));
    const closing = loop.close();
    expect(loop.close()).to.equal(closing);
    expect(await rejectionOf(loop.submit(deposit('late')))).to.be.instanceOf(ShuttingDownError);
    gated.release();
    const results = await Promise.all(queued);
    await closing;
    expect(results.every((r) => r.ok)).to.equal(true);
    expect((await listSnapshots(dataDir)).map((s) => s.seq)).to.deep.equal([5]);
    const reopened = await recoverDataDir(dataDir);
    expect(reopened.snapshotSeq).to.equal(5);
    expect(reopened.replayedCommands).to.equal(0);
  });

  it('after a failed fsync, fails the waiting callers, stops accepting, and writes no snapshot', async () => {
    const dataDir = tempDir();
    let syncs = 0;
    const fatal: Error[] = [];
    const { loop } = await openHarness(dataDir, {
      onFatalError: (error) => fatal.push(error),
      sync: async (file) => {
        syncs += 1;
        if (syncs >= 2) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
        await file.datasync();
      },
    });
    const first = await loop.submit(deposit('ann'));
    expect(first.ok).to.equal(true);
    const doomed = [loop.submit(deposit('ben')), loop.submit(deposit('cat'))];
    for (const promise of doomed) {
      const error = await rejectionOf(promise);
      expect(error).to.be.instanceOf(CommandLoopFailedError);
      expect(error.message).to.match(/journal write failed.*must restart/);
    }
    expect(fatal).to.have.length(1);
    expect(loop.queueDepth()).to.equal(0);
    const later = await rejectionOf(loop.submit(deposit('dan')));
    expect(later, 'a later caller is told the same cause').to.equal(fatal[0]);
    await loop.close();
    expect(await listSnapshots(dataDir)).to.deep.equal([]);

    const reopened = await recoverDataDir(dataDir);
    expect(usd(reopened.engine.balances('ann'))).to.equal(100_000_000n);
  });

  it('stops at an engine fault (a balance that would wrap): the caller and every later one are refused', async () => {
    const dataDir = tempDir();
    const fatal: Error[] = [];
    const { loop, engine } = await openHarness(dataDir, { onFatalError: (error) => fatal.push(error) });
    expect((await loop.submit(deposit('ann'))).ok).to.equal(true);
    const fault = new BalanceFaultError("fill payment from account #0's USD", 0n, 1n);
    engine.apply = () => {
      throw fault;
    };
    const error = await rejectionOf(loop.submit(deposit('ben')));
    expect(error).to.be.instanceOf(CommandLoopFailedError);
    expect(error.message).to.match(/the engine threw while applying seq 2.*must restart/);
    expect(error.cause).to.equal(fault);
    expect(fatal).to.deep.equal([error]);
    expect(await rejectionOf(loop.submit(deposit('cat')))).to.equal(error);
    await loop.close();
    const reopened = await recoverDataDir(dataDir);
    expect(reopened.engine.lastSeq(), 'the faulted command never reached the journal').to.equal(1);
  });

  it('keeps delivering events to other listeners when one throws, and stops after unsubscribe', async () => {
    const { loop } = await openHarness(tempDir());
    const seen: number[] = [];
    loop.onEvents(() => {
      throw new Error('listener bug');
    });
    const unsubscribe = loop.onEvents((seq) => seen.push(seq));
    await loop.submit(deposit('ann'));
    unsubscribe();
    await loop.submit(deposit('ann'));
    expect(seen).to.deep.equal([1]);
    await loop.close();
  });

  it('snapshots every N commands and keeps two, deleting the journal they cover', async () => {
    const dataDir = tempDir();
    const { loop } = await openHarness(dataDir, { snapshotEvery: 40 });
    const load = new RandomLoad(11);
    for (let i = 0; i < 300; i++) {
      const input = load.next();
      const result: CommandResult = await loop.submit(input);
      load.observe(input, result);
    }
    await loop.close();
    const snapshots = (await listSnapshots(dataDir)).map((s) => s.seq);
    expect(snapshots).to.have.length(2);
    expect(snapshots[1]).to.equal(loop.queries.lastSeq());
    const segments = await listJournalSegments(dataDir);
    expect(segments[0].seq).to.equal(snapshots[0] + 1);
  });

  it('takes each snapshot at exactly its seq while concurrent commands go on: the older one plus the journal between gives the newer', async () => {
    const dataDir = tempDir();
    const { loop } = await openHarness(dataDir, { snapshotEvery: 25 });
    const load = new RandomLoad(5);
    for (let round = 0; round < 20; round++) {
      const inputs = Array.from({ length: 16 }, () => load.next());
      const results = await Promise.all(inputs.map((input) => loop.submit(input)));
      inputs.forEach((input, i) => load.observe(input, results[i]!));
    }
    await loop.close();
    const [older, newer] = await listSnapshots(dataDir);
    const olderState = await readSnapshot(older!);
    const engine = Engine.restore(LOAD_ENGINE_CONFIG, olderState.engineState);
    for (const command of (await journaledCommands(dataDir)).filter((c) => c.seq > older!.seq && c.seq <= newer!.seq)) engine.apply(command);
    expect(engine.lastSeq()).to.equal(newer!.seq);
    expect(engine.stateHash()).to.equal(Engine.restore(LOAD_ENGINE_CONFIG, (await readSnapshot(newer!)).engineState).stateHash());
    expect(newer!.seq).to.equal(loop.queries.lastSeq());
  });

  it('after a restart from a snapshot and a journal tail, its replica (seeded from those) snapshots exactly the live state', async () => {
    const dataDir = tempDir();
    const load = new RandomLoad(8);
    const submitSome = async (loop: JournaledCommandLoop, count: number): Promise<void> => {
      for (let i = 0; i < count; i++) {
        const input = load.next();
        load.observe(input, await loop.submit(input));
      }
    };
    const first = await openHarness(dataDir, { snapshotEvery: 1_000_000 });
    await submitSome(first.loop, 120);
    await first.loop.close();
    // A crash after more commands: no final snapshot, so the next start replays them.
    const crashed = await openHarness(dataDir, { snapshotEvery: 1_000_000 });
    await submitSome(crashed.loop, 45);
    await crashed.journal.close();
    await crashed.replica.close();
    const third = await openHarness(dataDir, { snapshotEvery: 1_000_000 });
    await submitSome(third.loop, 30);
    await third.loop.close();
    const newest = (await listSnapshots(dataDir)).at(-1)!;
    expect(newest.seq).to.equal(third.engine.lastSeq());
    expect(Buffer.from((await readSnapshot(newest)).engineState).equals(third.engine.snapshot())).to.equal(true);
  });

  it('runs the snapshot replica\'s thread at a lower priority than the loop\'s (Linux: one thread reniced)', async function () {
    const ownNice = getPriority();
    if (process.platform !== 'linux' || ownNice >= 10) this.skip();
    const threads = (): string[] => readdirSync('/proc/self/task');
    const before = new Set(threads());
    const dataDir = tempDir();
    const { loop, replica, engine } = await openHarness(dataDir);
    await loop.submit(deposit('ann'));
    // Written by the replica's thread: it has started.
    await replica.take(engine.lastSeq(), 1, dataDir);
    const started = threads().filter((tid) => !before.has(tid));
    expect(started.map((tid) => getPriority(Number(tid)))).to.include(10);
    expect(getPriority()).to.equal(ownNice);
    await loop.close();
  });

  it('goes on without snapshots when the snapshot replica fails: every command is answered and recovered from the journal', async () => {
    const dataDir = tempDir();
    const { loop, replica, engine } = await openHarness(dataDir, { snapshotEvery: 10 });
    // A seq that does not follow on: the replica's thread throws, as on any failure of its own.
    replica.applied(sampleCommands(1_000, 1));
    for (let i = 0; i < 50; i++) expect((await loop.submit(deposit(`user-${i % 3}`))).ok).to.equal(true);
    const hash = engine.stateHash();
    await loop.close();
    expect(await listSnapshots(dataDir)).to.deep.equal([]);
    const reopened = await recoverDataDir(dataDir);
    expect([reopened.snapshotSeq, reopened.replayedCommands]).to.deep.equal([0, 50]);
    expect(reopened.engine.stateHash()).to.equal(hash);
  });
});
