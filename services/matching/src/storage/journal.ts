import { open, type FileHandle } from 'node:fs/promises';
import { encodeBatch } from './command-codec';
import { fsyncDirectory, journalPath } from './data-files';
import { encodeRecord } from './journal-record';

/** Makes a file's written data durable. A seam for fault injection in tests; fdatasync by default. */
export type SyncFile = (file: FileHandle) => Promise<void>;

const datasync: SyncFile = (file) => file.datasync();

export interface JournalStats {
  /** Records written, i.e. fsyncs on the append path. */
  readonly batches: number;
  readonly commands: number;
  readonly largestBatch: number;
}

/**
 * The append side of the journal: each append() writes one batch of commands as one checksummed
 * record and fsyncs it (group commit: one fsync per batch). Appends must not overlap; the command
 * loop awaits each before starting the next, which is what lets a torn write affect only the last
 * record. roll() starts a new segment file, so that files covered by a snapshot can be deleted whole.
 */
export class JournalWriter {
  private appending = false;
  private batches = 0;
  private commands = 0;
  private largestBatch = 0;

  private constructor(
    private readonly dir: string,
    private file: FileHandle,
    private readonly sync: SyncFile,
  ) {}

  /** Opens (creating if needed) the segment whose first command is firstSeq, for appending. */
  static async open(dir: string, firstSeq: number, sync: SyncFile = datasync): Promise<JournalWriter> {
    return new JournalWriter(dir, await openSegment(dir, firstSeq), sync);
  }

  /** Writes encoded commands (see encodeCommand) as one record and fsyncs; resolves once durable. */
  async append(encodedCommands: readonly string[]): Promise<void> {
    if (this.appending) throw new Error('journal appends must not overlap');
    this.appending = true;
    try {
      const record = encodeRecord(encodeBatch(encodedCommands));
      for (let written = 0; written < record.length; ) {
        written += (await this.file.write(record, written)).bytesWritten;
      }
      await this.sync(this.file);
    } finally {
      this.appending = false;
    }
    this.batches += 1;
    this.commands += encodedCommands.length;
    this.largestBatch = Math.max(this.largestBatch, encodedCommands.length);
  }

  /** Continues in a new segment whose first command will be firstSeq. */
  async roll(firstSeq: number): Promise<void> {
    const next = await openSegment(this.dir, firstSeq);
    const previous = this.file;
    this.file = next;
    await previous.close();
  }

  async close(): Promise<void> {
    await this.file.close();
  }

  stats(): JournalStats {
    return { batches: this.batches, commands: this.commands, largestBatch: this.largestBatch };
  }
}

async function openSegment(dir: string, firstSeq: number): Promise<FileHandle> {
  const file = await open(journalPath(dir, firstSeq), 'a');
  // The new name must survive a crash too, or the records written to it would vanish with it.
  await fsyncDirectory(dir);
  return file;
}
