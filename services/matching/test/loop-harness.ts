import type { FileHandle } from 'node:fs/promises';
import type { Engine } from '@orderbook/engine';
import { JournaledCommandLoop } from '../src/loop/command-loop';
import type { CommandLoopFailedError } from '../src/loop/errors';
import { Sequencer } from '../src/loop/sequencer';
import { SnapshotReplica } from '../src/loop/snapshot-replica';
import type { FileJournal, SyncFile } from '../src/storage/file-journal';
import { openDataDir } from '../src/storage/file-storage';
import { recover } from '../src/storage/recovery';
import { silentLogger } from './helpers';
import { LOAD_ENGINE_CONFIG } from './random-load';

export interface HarnessOptions {
  readonly maxQueueDepth?: number;
  readonly snapshotEvery?: number;
  readonly sync?: SyncFile;
  readonly onFatalError?: (error: CommandLoopFailedError) => void;
  /** The sequencer's clock (Unix ms); Date.now by default. */
  readonly now?: () => number;
}

export interface Harness {
  readonly loop: JournaledCommandLoop;
  readonly engine: Engine;
  readonly journal: FileJournal;
  readonly replica: SnapshotReplica;
}

/** openCommandLoop's wiring without the directory lock, with the journal's fsync replaceable (the fault-injection seam). */
export async function openHarness(dataDir: string, options: HarnessOptions = {}): Promise<Harness> {
  const durable = await openDataDir(dataDir, { logger: silentLogger, ...(options.sync && { sync: options.sync }) });
  const recovered = await recover(durable, LOAD_ENGINE_CONFIG, silentLogger);
  await durable.journal.resumeAfter(recovered.engine.lastSeq());
  const replica = SnapshotReplica.recovered(recovered.rebuild, LOAD_ENGINE_CONFIG, silentLogger);
  const loop = new JournaledCommandLoop({
    engine: recovered.engine,
    journal: durable.journal,
    snapshots: durable.snapshots,
    replica,
    sequencer: new Sequencer({ lastSeq: recovered.engine.lastSeq(), lastTimestamp: recovered.lastTimestamp }, options.now),
    snapshotSeq: recovered.snapshotSeq,
    lastTimestamp: recovered.lastTimestamp,
    maxQueueDepth: options.maxQueueDepth ?? 10_000,
    snapshotEvery: options.snapshotEvery ?? 1_000_000,
    logger: silentLogger,
    ...(options.onFatalError && { onFatalError: options.onFatalError }),
  });
  return { loop, engine: recovered.engine, journal: durable.journal, replica };
}

/** An fsync that waits until the test opens the gate: commands stay un-durable meanwhile. */
export class GatedSync {
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => undefined;
  calls = 0;

  readonly sync: SyncFile = async (file: FileHandle) => {
    this.calls += 1;
    await this.gate;
    await file.datasync();
  };

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open();
  }
}

/** Lets pending I/O callbacks and promise continuations run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}
