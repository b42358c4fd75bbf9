import type { FileHandle } from 'node:fs/promises';
import type { Engine } from '@orderbook/engine';
import { JournaledCommandLoop, type CommandLoopFailedError } from '../src/loop/command-loop';
import { JournalWriter, type SyncFile } from '../src/storage/journal';
import { recover } from '../src/storage/recovery';
import { Sequencer } from '../src/loop/sequencer';
import { silentLogger } from './helpers';
import { LOAD_ENGINE_CONFIG } from './random-load';

export interface HarnessOptions {
  readonly maxQueueDepth?: number;
  readonly snapshotEvery?: number;
  readonly sync?: SyncFile;
  readonly onFatalError?: (error: CommandLoopFailedError) => void;
}

export interface Harness {
  readonly loop: JournaledCommandLoop;
  readonly engine: Engine;
  readonly journal: JournalWriter;
}

/** openCommandLoop's wiring, with the journal's fsync replaceable (the fault-injection seam). */
export async function openHarness(dataDir: string, options: HarnessOptions = {}): Promise<Harness> {
  const recovered = await recover(dataDir, LOAD_ENGINE_CONFIG, silentLogger);
  const journal = await JournalWriter.open(dataDir, recovered.appendSegment, options.sync);
  const loop = new JournaledCommandLoop({
    engine: recovered.engine,
    journal,
    sequencer: new Sequencer(recovered.lastTimestamp),
    dataDir,
    snapshotSeq: recovered.snapshotSeq,
    lastTimestamp: recovered.lastTimestamp,
    maxQueueDepth: options.maxQueueDepth ?? 10_000,
    snapshotEvery: options.snapshotEvery ?? 1_000_000,
    logger: silentLogger,
    ...(options.onFatalError && { onFatalError: options.onFatalError }),
  });
  return { loop, engine: recovered.engine, journal };
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
