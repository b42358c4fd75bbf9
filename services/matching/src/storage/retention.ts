import { unlink } from 'node:fs/promises';
import type { Logger } from '@orderbook/server-kit';
import { fsyncDirectory, listJournalSegments, listSnapshots } from './data-files';

/**
 * Snapshots kept: the newest, and one more to fall back to if the newest turns out unreadable
 * (recovery then replays the journal from the older one, so the journal is kept from there on).
 */
export const SNAPSHOTS_KEPT = 2;

/**
 * Deletes snapshots older than the SNAPSHOTS_KEPT newest, and journal segments whose every
 * command is covered by the oldest snapshot kept. A segment's last command is one before the next
 * segment's first, so the last segment, still being written, is never deleted.
 */
export async function pruneDataDir(dir: string, logger: Logger): Promise<void> {
  const snapshots = await listSnapshots(dir);
  if (snapshots.length < SNAPSHOTS_KEPT) return;
  const oldestKept = snapshots[snapshots.length - SNAPSHOTS_KEPT];
  const doomed = snapshots.slice(0, snapshots.length - SNAPSHOTS_KEPT).map((s) => s.path);
  const segments = await listJournalSegments(dir);
  for (let i = 0; i + 1 < segments.length; i++) {
    if (segments[i + 1].seq - 1 <= oldestKept.seq) doomed.push(segments[i].path);
  }
  if (doomed.length === 0) return;
  for (const path of doomed) await unlink(path);
  await fsyncDirectory(dir);
  logger.info({ deleted: doomed.length, coveredUpToSeq: oldestKept.seq }, 'pruned old snapshots and journal segments');
}
