import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from '@orderbook/engine';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@orderbook/server-kit';
import { BATCH_HEADER_BYTES, decodeBatch, encodeBatch, encodeCommand } from './command-codec';
import { fsyncDirectory, listJournalSegments } from './data-files';
import type { FileJournal } from './file-journal';
import { JournalCorruptError, type Journal } from './journal';
import type { JetStreamLog, LogBounds } from './jetstream-log';

/** NATS refuses messages over 1 MiB by default; a batch is split into messages below this. */
const DEFAULT_MAX_MESSAGE_BYTES = 900 * 1024;

export interface JetStreamJournalOptions {
  /** The stream: the truth about which commands happened. */
  readonly log: JetStreamLog;
  /** This node's own fsync'd copy, in dir. */
  readonly local: FileJournal;
  readonly dir: string;
  /** Names this writer (and its term) in every message id, so the stream tells writers apart. */
  readonly writerId: string;
  readonly logger: Logger;
  readonly maxMessageBytes?: number;
}

/** One stream message as a follower applies it. */
export interface StreamBatch {
  readonly streamSeq: number;
  readonly batch: readonly Command[];
}

/** Where reading the stream ended. */
interface ReadEnd {
  readonly streamSeq: number;
  readonly commandSeq: number;
}

/**
 * The journal as a JetStream stream plus a local fsync'd file journal. An append resolves only
 * once both the local fsync and the stream's quorum ack are done: a power loss on this machine,
 * or on a minority of NATS servers, loses no acknowledged command.
 *
 * Each message is one batch (or a slice of one, under the message size limit), published with
 * the stream sequence this journal last read or appended as the expected last sequence: after
 * another writer appended, this one's publish is refused (LogFencedError) and the loop stops.
 *
 * The stream is the truth: reading (recovery) reads the stream only, and the local copy is made to
 * end where the stream does. Commands the local copy holds past the stream were never acknowledged
 * (no quorum ack); they are moved aside into a discarded-* folder for an operator, not replayed.
 */
export class JetStreamJournal implements Journal {
  private readEnd: ReadEnd | undefined;
  private lastStreamSeq = 0;
  /** Seq of the last command of the local copy. */
  private localEnd = 0;
  private broken: Error | undefined;

  constructor(private readonly options: JetStreamJournalOptions) {}

  async *read(fromSeq: number): AsyncGenerator<readonly Command[]> {
    const { log } = this.options;
    const bounds = await log.bounds();
    let expected: number | undefined;
    if (bounds.lastSeq > 0) {
      for await (const entry of log.read(await this.messageHolding(fromSeq, bounds), bounds.lastSeq)) {
        const batch = decodeBatch(Buffer.from(entry.data));
        if (expected === undefined) {
          expected = firstSeqOf(batch, entry.streamSeq);
          if (expected > fromSeq) {
            throw new JournalCorruptError(`the stream's oldest message holds seq ${expected}: commands ${fromSeq}..${expected - 1} are missing`);
          }
        }
        for (const cmd of batch) {
          if (cmd.seq !== expected) throw new JournalCorruptError(`stream message ${entry.streamSeq} holds seq ${cmd.seq} where seq ${expected} should be`);
          expected += 1;
        }
        yield batch;
      }
    }
    this.readEnd = { streamSeq: bounds.lastSeq, commandSeq: (expected ?? fromSeq) - 1 };
  }

  /** The stream sequence of the last message whose first command is at or before commandSeq. */
  private async messageHolding(commandSeq: number, bounds: LogBounds): Promise<number> {
    let [low, high] = [bounds.firstSeq, bounds.lastSeq];
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      const entry = await this.options.log.get(middle);
      if (entry === undefined) throw new JournalCorruptError(`stream message ${middle} is missing`);
      if (firstSeqOf(decodeBatch(Buffer.from(entry.data)), middle) <= commandSeq) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  /** Makes the local copy end at lastSeq (setting aside what it holds past the stream), then appends after it. */
  async resumeAfter(lastSeq: number): Promise<void> {
    if (this.readEnd === undefined) throw new Error('the journal must be read to its end before appending');
    this.lastStreamSeq = this.readEnd.streamSeq;
    const { local, dir, logger } = this.options;
    const localEnd = await readToEnd(local, dir);
    if (localEnd !== lastSeq && (await listJournalSegments(dir)).length > 0) {
      const aside = await setSegmentsAside(dir, lastSeq);
      const fields = { localEnd, streamEnd: lastSeq, movedTo: aside };
      if (localEnd === 'damaged' || localEnd > lastSeq) {
        logger.warn(fields, 'the local journal copy holds what the stream does not (never acknowledged): set aside, the stream is the truth');
      } else {
        logger.info(fields, 'the local journal copy was behind the stream: set aside, starting a new one');
      }
      await readToEnd(local, dir);
    }
    await local.resumeAfter(lastSeq);
    this.localEnd = lastSeq;
  }

  /**
   * Removes from the stream the messages that only hold commands before commandSeq (the message
   * holding commandSeq stays): what a snapshot covers, less the margin the caller keeps.
   */
  async dropBefore(commandSeq: number): Promise<number> {
    const { log } = this.options;
    const bounds = await log.bounds();
    if (bounds.lastSeq === 0) return 0;
    return log.dropBefore(await this.messageHolding(commandSeq, bounds));
  }

  /** The NATS connection, for the leader lease kept beside the stream. */
  get connection(): NatsConnection {
    return this.options.log.connection;
  }

  /** The stream sequence that reading ended at (read() first). */
  readEndStreamSeq(): number {
    if (this.readEnd === undefined) throw new Error('the journal must be read to its end first');
    return this.readEnd.streamSeq;
  }

  /**
   * The batches the stream holds after stream message afterStreamSeq, up to its end as of now,
   * each with its stream sequence: how a follower keeps up with the leader. onEnd is told where
   * the stream ends first (replication lag).
   */
  async *readAfter(afterStreamSeq: number, onEnd?: (lastStreamSeq: number) => void): AsyncGenerator<StreamBatch> {
    const { log } = this.options;
    const bounds = await log.bounds();
    onEnd?.(bounds.lastSeq);
    for await (const entry of log.read(afterStreamSeq + 1, bounds.lastSeq)) {
      yield { streamSeq: entry.streamSeq, batch: decodeBatch(Buffer.from(entry.data)) };
    }
  }

  /**
   * Prepares a follower that applied the stream up to message streamSeq (command commandSeq) to
   * append after it: the local copy (left behind while following) is set aside and starts anew.
   */
  async takeOver(streamSeq: number, commandSeq: number): Promise<void> {
    const { local, dir, logger } = this.options;
    if (this.localEnd !== commandSeq) {
      const aside = await setSegmentsAside(dir, commandSeq);
      logger.info({ streamSeq, commandSeq, movedTo: aside }, 'taking over: the local journal copy starts anew at the stream\'s end');
      await local.roll(commandSeq + 1);
      this.localEnd = commandSeq;
    }
    this.lastStreamSeq = streamSeq;
  }

  async append(batch: readonly Command[]): Promise<Uint8Array> {
    if (this.broken) throw this.broken;
    try {
      const [encoded] = await Promise.all([this.options.local.append(batch), this.publish(batch)]);
      this.localEnd = batch.at(-1)?.seq ?? this.localEnd;
      return encoded;
    } catch (err) {
      // Whether the stream stored the last message is unknown: nothing more may follow it.
      this.broken = err instanceof Error ? err : new Error(String(err));
      throw err;
    }
  }

  private async publish(batch: readonly Command[]): Promise<void> {
    const { log, writerId } = this.options;
    for (const slice of slices(batch, this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES)) {
      const expected = this.lastStreamSeq;
      const seq = await log.append(slice.data, expected, `${writerId}:${slice.firstSeq}`);
      if (seq !== expected + 1) throw new Error(`the stream stored seq ${slice.firstSeq} at stream seq ${seq}, expected ${expected + 1}`);
      this.lastStreamSeq = seq;
    }
  }

  roll(firstSeq: number): Promise<void> {
    return this.options.local.roll(firstSeq);
  }

  async close(): Promise<void> {
    try {
      await this.options.local.close();
    } finally {
      await this.options.log.close();
    }
  }
}

interface Slice {
  readonly firstSeq: number;
  readonly data: Buffer;
}

/** The batch as consecutive messages, each under maxBytes. */
function slices(batch: readonly Command[], maxBytes: number): Slice[] {
  const result: Slice[] = [];
  let encoded: Buffer[] = [];
  let bytes = BATCH_HEADER_BYTES;
  let firstSeq = batch[0]?.seq ?? 0;
  for (const cmd of batch) {
    const command = encodeCommand(cmd);
    const size = command.length;
    if (BATCH_HEADER_BYTES + size > maxBytes) throw new RangeError(`command seq ${cmd.seq} encodes to ${size} bytes, over the stream's message limit of ${maxBytes}`);
    if (bytes + size > maxBytes) {
      result.push({ firstSeq, data: encodeBatch(encoded) });
      [encoded, bytes, firstSeq] = [[], BATCH_HEADER_BYTES, cmd.seq];
    }
    encoded.push(command);
    bytes += size;
  }
  if (encoded.length > 0) result.push({ firstSeq, data: encodeBatch(encoded) });
  return result;
}

function firstSeqOf(batch: readonly Command[], streamSeq: number): number {
  if (batch.length === 0) throw new JournalCorruptError(`stream message ${streamSeq} holds no command`);
  return batch[0].seq;
}

/** Reads the local copy to its end: the seq of its last command, 0 if empty, 'damaged' if unreadable. */
async function readToEnd(local: FileJournal, dir: string): Promise<number | 'damaged'> {
  const segments = await listJournalSegments(dir);
  let end = (segments[0]?.seq ?? 1) - 1;
  try {
    for await (const batch of local.read(end + 1)) end = batch.at(-1)?.seq ?? end;
  } catch (err) {
    if (err instanceof JournalCorruptError) return 'damaged';
    throw err;
  }
  return end;
}

/** Moves every journal segment of dir into a new folder discarded-<streamEnd>-<time>; returns its path. */
async function setSegmentsAside(dir: string, streamEnd: number): Promise<string> {
  const aside = join(dir, `discarded-${streamEnd}-${Date.now()}`);
  await mkdir(aside);
  for (const segment of await listJournalSegments(dir)) {
    await rename(segment.path, join(aside, segment.path.slice(dir.length + 1)));
  }
  await fsyncDirectory(dir);
  return aside;
}
