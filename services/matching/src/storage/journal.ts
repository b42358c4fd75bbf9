import type { Command } from '@orderbook/engine';

/**
 * The command journal as the command loop and recovery use it, whatever holds it. A command is
 * acknowledged only once the append() of its batch resolved. FileJournal (fsync'd segment files in
 * the data directory) is the embedded implementation; a replicated log is meant to be a second one
 * behind this same interface, with no change to the loop or to recovery.
 */
export interface Journal {
  /**
   * The journaled commands in seq order, batch by batch, from the batch that holds fromSeq (so the
   * first batch may start earlier). Rejects with JournalCorruptError where what is stored cannot
   * be all that was acknowledged.
   */
  read(fromSeq: number): AsyncIterable<readonly Command[]>;
  /** Prepares to append the commands after lastSeq, the recovered state's seq. Once, after read(). */
  resumeAfter(lastSeq: number): Promise<void>;
  /**
   * Makes one batch of consecutive commands durable as one unit (group commit: one sync per
   * batch) and resolves once it is, with the batch as encoded (encodeCommands) so that nothing after
   * encodes it again. Appends must not overlap.
   */
  append(batch: readonly Command[]): Promise<Uint8Array>;
  /** Commands from firstSeq on start a new unit, so that what a snapshot covers can be dropped whole. */
  roll(firstSeq: number): Promise<void>;
  close(): Promise<void>;
}

/** The journal is damaged where a crash cannot explain it: acknowledged commands may be lost. */
export class JournalCorruptError extends Error {
  override readonly name = 'JournalCorruptError';
}
