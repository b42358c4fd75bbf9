import { fdatasync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Command } from '@orderbook/engine';
import { decodeBatch, encodeCommands } from './command-codec';
import { fsyncDirectory, journalPath, listJournalSegments, type SeqFile } from './data-files';
import { JournalCorruptError, type Journal } from './journal';
import { readSegment, type SegmentReadOptions } from './journal-reader';
import { encodeRecord } from './journal-record';

/** Makes a file's written data durable. A seam for fault injection in tests; fdatasync by default. */
export type SyncFile = (file: FileHandle) => Promise<void>;

const datasync: SyncFile = (file) => new Promise((resolve, reject) => fdatasync(file.fd, (err) => (err === null ? resolve() : reject(err))));

export interface FileJournalOptions extends SegmentReadOptions {
  readonly sync?: SyncFile;
  /** Told the size of every record written (the disk-space watch counts it between measurements). */
  readonly onAppended?: (bytes: number) => void;
  /** Told how long each sync of an appended record took, in seconds. */
  readonly onSynced?: (seconds: number) => void;
}

export interface JournalStats {
  /** Records written, i.e. fsyncs on the append path. */
  readonly batches: number;
  readonly commands: number;
  readonly largestBatch: number;
}

/** Where reading the journal ended: the last segment and the seq of its last command. */
interface ReadEnd {
  readonly lastSegment?: SeqFile;
  readonly lastSeq: number;
}

/**
 * The journal as segment files in a data directory (see data-files.ts): each append() writes one
 * batch as one checksummed record (journal-record.ts) and fsyncs it, so the unit a crash can tear
 * is exactly the last record. roll() starts a new segment file, so that segments covered by a
 * snapshot can be deleted whole (retention.ts).
 */
export class FileJournal implements Journal {
  private file: FileHandle | undefined;
  private segment: number | undefined;
  private appending = false;
  private readEnd: ReadEnd | undefined;
  private batches = 0;
  private commands = 0;
  private largestBatch = 0;
  private readonly sync: SyncFile;

  constructor(
    private readonly dir: string,
    private readonly options: FileJournalOptions,
  ) {
    this.sync = options.sync ?? datasync;
  }

  /**
   * Checks that segments follow each other without a gap and that each holds the seqs its name
   * promises. A torn last record is cut off (see readSegment); any other damage is an error.
   */
  async *read(fromSeq: number): AsyncGenerator<readonly Command[]> {
    const segments = await listJournalSegments(this.dir);
    // The segment holding fromSeq is the last one starting at or before it.
    let first = -1;
    while (first + 1 < segments.length && segments[first + 1].seq <= fromSeq) first += 1;
    if (segments.length > 0 && first === -1) {
      throw new JournalCorruptError(
        `journal starts at seq ${segments[0].seq} but the state to replay onto is at seq ${fromSeq - 1}: ` +
          `commands ${fromSeq}..${segments[0].seq - 1} are missing`,
      );
    }
    if (first === -1) {
      this.readEnd = { lastSeq: fromSeq - 1 };
      return;
    }
    let expected = segments[first].seq;
    for (let i = first; i < segments.length; i++) {
      const segment = segments[i];
      if (segment.seq !== expected) {
        throw new JournalCorruptError(
          `journal segment ${segment.path} starts at seq ${segment.seq} but the one before ends at seq ${expected - 1}`,
        );
      }
      for (const payload of await readSegment(segment, i === segments.length - 1, this.options)) {
        const batch = decodeBatch(payload);
        for (const cmd of batch) {
          if (cmd.seq !== expected) {
            throw new JournalCorruptError(`journal segment ${segment.path} holds seq ${cmd.seq} where seq ${expected} should be`);
          }
          expected += 1;
        }
        yield batch;
      }
    }
    this.readEnd = { lastSegment: segments[segments.length - 1], lastSeq: expected - 1 };
  }

  /** Continues the last segment when it ends at lastSeq; otherwise (a snapshot is ahead of it) starts one at lastSeq + 1. */
  async resumeAfter(lastSeq: number): Promise<void> {
    if (this.readEnd === undefined) throw new Error('the journal must be read to its end before appending');
    const { lastSegment } = this.readEnd;
    await this.roll(lastSegment !== undefined && this.readEnd.lastSeq === lastSeq ? lastSegment.seq : lastSeq + 1);
  }

  async append(batch: readonly Command[]): Promise<Uint8Array> {
    if (this.file === undefined) throw new Error('the journal has no segment open: resumeAfter() first');
    if (this.appending) throw new Error('journal appends must not overlap');
    this.appending = true;
    const payload = encodeCommands(batch);
    try {
      const record = encodeRecord(payload);
      // The write only copies the record into the page cache: done here, it takes microseconds,
      // where a round trip through the thread pool costs waking a pool thread and then this one
      // (on a busy machine, each wait for a core). Only the sync, which waits for the device, goes there.
      for (let written = 0; written < record.length; ) written += writeSync(this.file.fd, record, written);
      this.options.onAppended?.(record.length);
      const syncStarted = process.hrtime.bigint();
      await this.sync(this.file);
      this.options.onSynced?.(Number(process.hrtime.bigint() - syncStarted) / 1e9);
    } finally {
      this.appending = false;
    }
    this.batches += 1;
    this.commands += batch.length;
    this.largestBatch = Math.max(this.largestBatch, batch.length);
    return payload;
  }

  /** Opens (creating if needed) the segment whose first command is firstSeq, and appends there from now on. */
  async roll(firstSeq: number): Promise<void> {
    const next = await open(journalPath(this.dir, firstSeq), 'a');
    // The new name must survive a crash too, or the records written to it would vanish with it.
    await fsyncDirectory(this.dir);
    const previous = this.file;
    this.file = next;
    this.segment = firstSeq;
    await previous?.close();
  }

  async close(): Promise<void> {
    await this.file?.close();
    this.file = undefined;
  }

  /** First seq (name) of the segment appended to; undefined before resumeAfter() or roll(). */
  appendSegment(): number | undefined {
    return this.segment;
  }

  stats(): JournalStats {
    return { batches: this.batches, commands: this.commands, largestBatch: this.largestBatch };
  }
}
