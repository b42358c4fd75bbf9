import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Engine, type Command, type EngineConfig } from '@orderbook/engine';
import type { Logger } from '@orderbook/server-kit';
import { encodeCommands } from './command-codec';
import { JournalCorruptError, type Journal } from './journal';
import type { SnapshotStore, StoredSnapshot } from './snapshot-store';

/** What recovery rebuilds the engine from: the journal and the snapshots, whatever holds them. */
export interface DurableState {
  readonly journal: Journal;
  readonly snapshots: SnapshotStore;
}

/** What recovery rebuilt. */
export interface RecoveredState {
  readonly engine: Engine;
  /** Timestamp of the last command recovered (0 if none), the floor for new timestamps. */
  readonly lastTimestamp: number;
  /** Seq of the snapshot loaded; 0 if the journal was replayed from the start. */
  readonly snapshotSeq: number;
  /** Journal commands applied on top of the snapshot. */
  readonly replayedCommands: number;
  /** How to rebuild the same state elsewhere (the snapshot replica's seed) without encoding it again. */
  readonly rebuild: Rebuild;
}

/** The state recovery started from and the commands it applied on top, as it had them. */
export interface Rebuild {
  /** The engine state of the snapshot restored (Engine.restore bytes); undefined: none, an empty engine. */
  readonly snapshotState: Uint8Array | undefined;
  /** The journal commands replayed on top, in seq order, as encoded batches (encodeCommands). */
  readonly replayed: readonly Uint8Array[];
}

/** Commands replayed between yields to the event loop, so a server can answer health checks. */
const REPLAY_SLICE = 5_000;
const PROGRESS_LOG_EVERY = 500_000;

/**
 * Rebuilds the engine: the newest snapshot that reads and restores (falling back to older ones),
 * then every journal command after it, checking that seqs run without a gap. A journal that ends
 * before the newest snapshot says commands were durable is an error: starting anyway would
 * silently lose acknowledged commands.
 */
export async function recover(durable: DurableState, engineConfig: EngineConfig, logger: Logger): Promise<RecoveredState> {
  const snapshots = await durable.snapshots.list();
  const base = await restoreNewestSnapshot(snapshots, engineConfig, logger);
  const started = performance.now();
  const replay = await replayJournal(durable.journal, base, logger);
  const { engine } = base;

  const newestSnapshot = snapshots.at(-1);
  if (newestSnapshot && engine.lastSeq() < newestSnapshot.seq) {
    throw new JournalCorruptError(
      `recovered state ends at seq ${engine.lastSeq()}, but snapshot ${newestSnapshot.location} shows that commands ` +
        `up to seq ${newestSnapshot.seq} were durable: refusing to start without them`,
    );
  }
  const seconds = (performance.now() - started) / 1000;
  logger.info(
    { snapshotSeq: base.seq, replayedCommands: replay.applied, lastSeq: engine.lastSeq(), replaySeconds: Number(seconds.toFixed(3)) },
    'recovered engine state',
  );
  return {
    engine,
    lastTimestamp: replay.lastTimestamp ?? base.timestamp,
    snapshotSeq: base.seq,
    replayedCommands: replay.applied,
    rebuild: { snapshotState: base.state, replayed: replay.encoded },
  };
}

interface BaseState {
  readonly engine: Engine;
  readonly seq: number;
  readonly timestamp: number;
  /** The snapshot's engine-state bytes the engine was restored from; undefined for an empty engine. */
  readonly state: Uint8Array | undefined;
}

async function restoreNewestSnapshot(snapshots: readonly StoredSnapshot[], engineConfig: EngineConfig, logger: Logger): Promise<BaseState> {
  for (const stored of [...snapshots].reverse()) {
    try {
      const snapshot = await stored.read();
      const engine = Engine.restore(engineConfig, snapshot.engineState);
      if (engine.lastSeq() !== snapshot.seq) {
        throw new Error(`engine state inside is at seq ${engine.lastSeq()}`);
      }
      logger.info({ snapshot: stored.location, seq: snapshot.seq }, 'loaded snapshot');
      return { engine, seq: snapshot.seq, timestamp: snapshot.timestamp, state: snapshot.engineState };
    } catch (err) {
      logger.error({ err, snapshot: stored.location }, 'snapshot unusable: falling back to an older one');
    }
  }
  return { engine: new Engine(engineConfig), seq: 0, timestamp: 0, state: undefined };
}

interface ReplayOutcome {
  readonly applied: number;
  readonly lastTimestamp?: number;
  /** The commands applied, encoded REPLAY_SLICE at a time. */
  readonly encoded: readonly Uint8Array[];
}

async function replayJournal(journal: Journal, base: BaseState, logger: Logger): Promise<ReplayOutcome> {
  const { engine } = base;
  let applied = 0;
  let journalEnd = base.seq;
  let lastTimestamp: number | undefined;
  const encoded: Uint8Array[] = [];
  let unencoded: Command[] = [];
  for await (const batch of journal.read(base.seq + 1)) {
    for (const cmd of batch) {
      journalEnd = cmd.seq;
      if (cmd.seq <= base.seq) continue;
      engine.apply(cmd);
      if (engine.lastSeq() !== cmd.seq) {
        throw new JournalCorruptError(`replaying seq ${cmd.seq} left the engine at seq ${engine.lastSeq()}: the journal and the engine disagree`);
      }
      lastTimestamp = cmd.timestamp;
      applied += 1;
      unencoded.push(cmd);
      if (applied % REPLAY_SLICE === 0) {
        encoded.push(encodeCommands(unencoded));
        unencoded = [];
        await yieldToEventLoop();
      }
      if (applied % PROGRESS_LOG_EVERY === 0) logger.info({ replayed: applied, seq: cmd.seq }, 'replaying journal');
    }
  }
  if (journalEnd < base.seq) {
    logger.warn({ journalEnd, snapshotSeq: base.seq }, 'journal ends before the snapshot; going on from the snapshot');
  }
  if (unencoded.length > 0) encoded.push(encodeCommands(unencoded));
  return lastTimestamp === undefined ? { applied, encoded } : { applied, lastTimestamp, encoded };
}
