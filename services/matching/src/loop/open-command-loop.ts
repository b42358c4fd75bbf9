import { mkdir } from 'node:fs/promises';
import { type EngineConfig, limitsOf } from '@orderbook/engine';
import type { Logger } from '@orderbook/server-kit';
import { lockDataDir, type DataDirLock } from '../storage/data-dir-lock';
import { DiskSpace, type MeasureFreeSpace } from '../storage/disk-space';
import { openDataDir, type DataDir } from '../storage/file-storage';
import { openJetStreamJournal, type JetStreamJournalConfig } from '../storage/open-jetstream-journal';
import type { Journal } from '../storage/journal';
import { recordedLimits } from '../storage/limits-record';
import { checkMarketRules } from '../storage/market-rules-record';
import { recover, type RecoveredState } from '../storage/recovery';
import type { CommandLoop, CommandObserver } from './command-loop-api';
import { JournaledCommandLoop } from './command-loop';
import { applyConfiguredLimits } from './configured-limits';
import type { CommandLoopFailedError } from './errors';
import { Sequencer } from './sequencer';
import { SnapshotReplica } from './snapshot-replica';

const DEFAULT_DISK_CHECK_INTERVAL_MS = 1000;

export interface CommandLoopOptions {
  /** Holds the journal segments and snapshots; created if missing. One process per directory. */
  readonly dataDir: string;
  /**
   * Markets and the limits wanted: the data directory's own limits (limits-record.ts) judge its
   * journal on replay; these are put in force after it, by a configure command, when they differ.
   */
  readonly engineConfig: EngineConfig;
  /** submit() rejects with OverloadedError while this many commands await their answer. */
  readonly maxQueueDepth: number;
  /** A snapshot is written after every this many journaled commands, and at close. */
  readonly snapshotEvery: number;
  readonly observer?: CommandObserver;
  readonly logger: Logger;
  /** Free bytes the data directory's file system must keep; below it commands are refused. 0 by default. */
  readonly diskReserveBytes?: number;
  /** How often free space is measured (default 1000 ms). */
  readonly diskCheckIntervalMs?: number;
  /** How free space is measured (statfs by default; tests replace it). */
  readonly measureFreeSpace?: MeasureFreeSpace;
  /** Cut a complete but damaged last journal record instead of refusing to start (an operator's explicit choice). */
  readonly truncateDamagedTail?: boolean;
  /** When given, the journal is this JetStream stream, with the data directory's file journal as the local copy. */
  readonly jetstream?: JetStreamJournalConfig;
  /**
   * Called once if the loop stops for good (a journal write or fsync failed, or the engine threw):
   * memory is then ahead of disk, so the process should report NOT_SERVING and exit to recover.
   */
  readonly onFatalError?: (error: CommandLoopFailedError) => void;
}

/**
 * Recovers the engine from options.dataDir (newest readable snapshot + journal tail) and starts
 * the command loop on it, appending to the file journal with its default sync (fdatasync), or to
 * the JetStream stream of options.jetstream (which is then the truth recovery reads) and that file journal.
 * Resolves only when recovery is complete: a server reports NOT_SERVING until then (replay yields
 * to the event loop regularly, so health checks are answered meanwhile). Rejects if the data
 * directory is damaged in a way that could lose acknowledged commands.
 */
export async function openCommandLoop(options: CommandLoopOptions): Promise<CommandLoop> {
  const opened = await openDurableState<Journal>(options, (dataDir) =>
    options.jetstream ? openJetStreamJournal(options.jetstream, options.dataDir, dataDir.journal, options.logger) : Promise.resolve(dataDir.journal),
  );
  const { recovered } = opened;
  const loop = new JournaledCommandLoop({
    dataDirLock: opened.lock,
    diskSpace: opened.diskSpace,
    dataDir: options.dataDir,
    engine: recovered.engine,
    journal: opened.journal,
    snapshots: opened.dataDir.snapshots,
    replica: SnapshotReplica.recovered(recovered.rebuild, opened.engineConfig, options.logger),
    sequencer: new Sequencer({ lastSeq: recovered.engine.lastSeq(), lastTimestamp: recovered.lastTimestamp }),
    snapshotSeq: recovered.snapshotSeq,
    lastTimestamp: recovered.lastTimestamp,
    maxQueueDepth: options.maxQueueDepth,
    snapshotEvery: options.snapshotEvery,
    logger: options.logger,
    ...(options.observer && { observer: options.observer }),
    ...(options.onFatalError && { onFatalError: options.onFatalError }),
  });
  await applyConfiguredLimits(loop, limitsOf(options.engineConfig), options.logger);
  return loop;
}

/** A locked, recovered data directory with its journal ready to append after the recovered state. */
export interface OpenedDataDir<J extends Journal> {
  readonly lock: DataDirLock;
  readonly diskSpace: DiskSpace;
  readonly dataDir: DataDir;
  readonly journal: J;
  readonly recovered: RecoveredState;
  /** options.engineConfig with the data directory's recorded limits: what the engine was recovered with, and its replicas start from. */
  readonly engineConfig: EngineConfig;
}

/**
 * Locks options.dataDir, watches its free space, opens the journal that openJournal makes of it
 * and recovers the engine (newest readable snapshot + journal tail). Everything is released if a
 * step fails.
 */
export async function openDurableState<J extends Journal>(options: CommandLoopOptions, openJournal: (dataDir: DataDir) => Promise<J>): Promise<OpenedDataDir<J>> {
  for (const name of ['maxQueueDepth', 'snapshotEvery'] as const) {
    if (!Number.isSafeInteger(options[name]) || options[name] < 1) {
      throw new RangeError(`${name} must be a positive integer, got ${options[name]}`);
    }
  }
  const { logger } = options;
  await mkdir(options.dataDir, { recursive: true });
  // Before anything in the directory is touched: another process may be writing there.
  const lock = await lockDataDir(options.dataDir);
  let dataDir: DataDir | undefined;
  let journal: J | undefined;
  let diskSpace: DiskSpace | undefined;
  try {
    // Measured before the first command: a restart on a full disk serves reads and refuses writes.
    diskSpace = await DiskSpace.watch({
      dir: options.dataDir,
      reserveBytes: options.diskReserveBytes ?? 0,
      checkIntervalMs: options.diskCheckIntervalMs ?? DEFAULT_DISK_CHECK_INTERVAL_MS,
      logger,
      ...(options.measureFreeSpace && { measure: options.measureFreeSpace }),
    });
    const space = diskSpace;
    await checkMarketRules(options.dataDir, options.engineConfig.markets);
    const engineConfig = { ...options.engineConfig, ...(await recordedLimits(options.dataDir, limitsOf(options.engineConfig))) };
    dataDir = await openDataDir(options.dataDir, {
      logger,
      truncateDamagedTail: options.truncateDamagedTail === true,
      onAppended: (bytes) => space.wrote(bytes),
      onSynced: (seconds) => options.observer?.journalSynced?.(seconds),
    });
    journal = await openJournal(dataDir);
    const recovered = await recover({ journal, snapshots: dataDir.snapshots }, engineConfig, logger);
    await journal.resumeAfter(recovered.engine.lastSeq());
    return { lock, diskSpace, dataDir, journal, recovered, engineConfig };
  } catch (err) {
    diskSpace?.stop();
    await (journal ?? dataDir?.journal)?.close();
    await lock.release();
    throw err;
  }
}
