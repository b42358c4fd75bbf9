import { mkdir } from 'node:fs/promises';
import { FileJournal, type FileJournalOptions } from './file-journal';
import type { DurableState } from './recovery';
import { FileSnapshotStore } from './snapshot-store';

/** A data directory's journal segments and snapshots (the directory is created if missing). */
export interface DataDir extends DurableState {
  readonly journal: FileJournal;
  readonly snapshots: FileSnapshotStore;
}

export async function openDataDir(dir: string, options: FileJournalOptions): Promise<DataDir> {
  await mkdir(dir, { recursive: true });
  return { journal: new FileJournal(dir, options), snapshots: await FileSnapshotStore.open(dir, options.logger) };
}
