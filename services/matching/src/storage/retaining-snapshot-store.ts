import type { Logger } from '@orderbook/server-kit';
import type { JetStreamJournal } from './jetstream-journal';
import type { SnapshotStore } from './snapshot-store';

/**
 * The snapshot store of a leader with stream retention (MATCHING_JOURNAL_RETAIN_COMMANDS): once a
 * snapshot at seq S is saved, the stream drops the messages holding only commands up to
 * S - retainCommands. Only what this durable snapshot covers goes, and retainCommands of that
 * stay for followers restarting from older snapshots of their own.
 */
export function retainingSnapshotStore(snapshots: SnapshotStore, journal: JetStreamJournal, retainCommands: number, logger: Logger): SnapshotStore {
  return {
    dir: snapshots.dir,
    list: () => snapshots.list(),
    saved: async (seq) => {
      await snapshots.saved(seq);
      const keepFrom = seq - retainCommands + 1;
      if (keepFrom <= 1) return;
      try {
        const dropped = await journal.dropBefore(keepFrom);
        if (dropped > 0) logger.info({ dropped, keptFromSeq: keepFrom, snapshotSeq: seq }, 'stream retention: dropped messages a snapshot covers');
      } catch (err) {
        logger.warn({ err, keptFromSeq: keepFrom }, 'stream retention: dropping old messages failed; they are kept');
      }
    },
  };
}
