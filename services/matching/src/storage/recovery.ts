import { mkdir } from 'node:fs/promises';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Engine, type EngineConfig } from '@orderbook/engine';
import type { Logger } from '@orderbook/server-kit';
import { decodeBatch } from './command-codec';
import { listJournalSegments, listSnapshots, type SeqFile } from './data-files';
import { JournalCorruptError, readSegment } from './journal-reader';
import { readSnapshot, removeUnfinishedSnapshots } from './snapshot-store';

/** What recovery rebuilt from a data directory. */
export interface RecoveredState {
  readonly engine: Engine;
  /** Timestamp of the last command recovered (0 if none), the floor for new timestamps. */
  readonly lastTimestamp: number;
  /** Seq of the snapshot loaded; 0 if the journal was replayed from the start. */
  readonly snapshotSeq: number;
  /** Journal commands applied on top of the snapshot. */
  readonly replayedCommands: number;
  /** First seq (name) of the journal segment that new commands are appended to. */
  readonly appendSegment: number;
}

/** Commands replayed between yields to the event loop, so a server can answer health checks. */
const REPLAY_SLICE = 5_000;
const PROGRESS_LOG_EVERY = 500_000;

/**
 * Rebuilds the engine from dataDir: the newest snapshot that reads and restores (falling back to
 * older ones), then every journal command after it, checking that seqs run without a gap. A torn
 * last journal record is cut off (see readSegment); any other damage, or a journal that ends
 * before the newest snapshot file says commands were durable, is an error: starting anyway would
 * silently lose acknowledged commands.
 */
export async function recover(dataDir: string, engineConfig: EngineConfig, logger: Logger): Promise<RecoveredState> {
  await mkdir(dataDir, { recursive: true });
  await removeUnfinishedSnapshots(dataDir);
  const snapshots = await listSnapshots(dataDir);
  const base = await restoreNewestSnapshot(snapshots, engineConfig, logger);
  const segments = await listJournalSegments(dataDir);
  const started = performance.now();
  const replay = await replayJournal(segments, base, logger);
  const { engine } = base;

  const newestSnapshot = snapshots.at(-1);
  if (newestSnapshot && engine.lastSeq() < newestSnapshot.seq) {
    throw new JournalCorruptError(
      `recovered state ends at seq ${engine.lastSeq()}, but snapshot ${newestSnapshot.path} shows that commands ` +
        `up to seq ${newestSnapshot.seq} were durable: refusing to start without them`,
    );
  }
  const lastSegment = segments.at(-1);
  const appendSegment =
    lastSegment && replay.journalEnd === engine.lastSeq() ? lastSegment.seq : engine.lastSeq() + 1;
  const seconds = (performance.now() - started) / 1000;
  logger.info(
    {
      snapshotSeq: base.seq,
      replayedCommands: replay.applied,
      lastSeq: engine.lastSeq(),
      replaySeconds: Number(seconds.toFixed(3)),
    },
    'recovered engine state',
  );
  return {
    engine,
    lastTimestamp: replay.lastTimestamp ?? base.timestamp,
    snapshotSeq: base.seq,
    replayedCommands: replay.applied,
    appendSegment,
  };
}

interface BaseState {
  readonly engine: Engine;
  readonly seq: number;
  readonly timestamp: number;
}

async function restoreNewestSnapshot(
  snapshots: readonly SeqFile[],
  engineConfig: EngineConfig,
  logger: Logger,
): Promise<BaseState> {
  for (const file of [...snapshots].reverse()) {
    try {
      const snapshot = await readSnapshot(file);
      const engine = Engine.restore(engineConfig, snapshot.engineState);
      if (engine.lastSeq() !== snapshot.seq) {
        throw new Error(`engine state inside is at seq ${engine.lastSeq()}`);
      }
      logger.info({ snapshot: file.path, seq: snapshot.seq }, 'loaded snapshot');
      return { engine, seq: snapshot.seq, timestamp: snapshot.timestamp };
    } catch (err) {
      logger.error({ err, snapshot: file.path }, 'snapshot unusable: falling back to an older one');
    }
  }
  return { engine: new Engine(engineConfig), seq: 0, timestamp: 0 };
}

interface ReplayOutcome {
  readonly applied: number;
  /** The last seq in the journal (which may be below the snapshot's). */
  readonly journalEnd: number;
  readonly lastTimestamp?: number;
}

async function replayJournal(segments: readonly SeqFile[], base: BaseState, logger: Logger): Promise<ReplayOutcome> {
  // The segment holding base.seq + 1 is the last one starting at or before it.
  let first = -1;
  while (first + 1 < segments.length && segments[first + 1].seq <= base.seq + 1) first += 1;
  if (segments.length > 0 && first === -1) {
    throw new JournalCorruptError(
      `journal starts at seq ${segments[0].seq} but the state to replay onto is at seq ${base.seq}: ` +
        `commands ${base.seq + 1}..${segments[0].seq - 1} are missing`,
    );
  }
  if (first === -1) return { applied: 0, journalEnd: base.seq };

  const { engine } = base;
  let expected = segments[first].seq;
  let applied = 0;
  let lastTimestamp: number | undefined;
  for (let i = first; i < segments.length; i++) {
    const segment = segments[i];
    if (segment.seq !== expected) {
      throw new JournalCorruptError(
        `journal segment ${segment.path} starts at seq ${segment.seq} but the one before ends at seq ${expected - 1}`,
      );
    }
    for (const payload of await readSegment(segment, i === segments.length - 1, logger)) {
      for (const cmd of decodeBatch(payload)) {
        if (cmd.seq !== expected) {
          throw new JournalCorruptError(
            `journal segment ${segment.path} holds seq ${cmd.seq} where seq ${expected} should be`,
          );
        }
        expected += 1;
        if (cmd.seq <= base.seq) continue;
        engine.apply(cmd);
        if (engine.lastSeq() !== cmd.seq) {
          throw new JournalCorruptError(
            `replaying seq ${cmd.seq} left the engine at seq ${engine.lastSeq()}: the journal and the engine disagree`,
          );
        }
        lastTimestamp = cmd.timestamp;
        applied += 1;
        if (applied % REPLAY_SLICE === 0) await yieldToEventLoop();
        if (applied % PROGRESS_LOG_EVERY === 0) logger.info({ replayed: applied, seq: cmd.seq }, 'replaying journal');
      }
    }
  }
  const journalEnd = expected - 1;
  if (journalEnd < base.seq) {
    logger.warn({ journalEnd, snapshotSeq: base.seq }, 'journal ends before the snapshot; going on from the snapshot');
  }
  return lastTimestamp === undefined ? { applied, journalEnd } : { applied, journalEnd, lastTimestamp };
}
