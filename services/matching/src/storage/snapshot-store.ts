import { open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from '@orderbook/server-kit';
import { fsyncDirectory, listSnapshots, snapshotPath, type SeqFile } from './data-files';
import { pruneDataDir } from './retention';

/** The engine's state after command seq, as the engine serialised it. */
export interface Snapshot {
  readonly seq: number;
  /** The timestamp of command seq, so that timestamps stay monotonic across a restart. */
  readonly timestamp: number;
  readonly engineState: string;
}

/** A snapshot as stored: its seq is known at once, its content is read (and checked) on demand. */
export interface StoredSnapshot {
  readonly seq: number;
  /** Where it is, for messages. */
  readonly location: string;
  read(): Promise<Snapshot>;
}

/**
 * Where engine snapshots go, as the command loop and recovery use them. FileSnapshotStore keeps
 * them in the data directory next to the file journal.
 */
export interface SnapshotStore {
  /** The snapshots held, oldest first. */
  list(): Promise<readonly StoredSnapshot[]>;
  /** Stores a snapshot durably, then drops what it makes redundant. A failure costs only replay time. */
  save(snapshot: Snapshot): Promise<void>;
}

/** Snapshot files in a data directory; saving one prunes older snapshots and the journal segments they cover. */
export class FileSnapshotStore implements SnapshotStore {
  private constructor(
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  /** Removes what a crash mid-write left behind, then serves the directory's snapshots. */
  static async open(dir: string, logger: Logger): Promise<FileSnapshotStore> {
    await removeUnfinishedSnapshots(dir);
    return new FileSnapshotStore(dir, logger);
  }

  async list(): Promise<readonly StoredSnapshot[]> {
    return (await listSnapshots(this.dir)).map((file) => ({ seq: file.seq, location: file.path, read: () => readSnapshot(file) }));
  }

  async save(snapshot: Snapshot): Promise<void> {
    await writeSnapshot(this.dir, snapshot);
    await pruneDataDir(this.dir, this.logger);
  }
}

/** A snapshot file is unreadable, truncated, or fails its checksum. */
export class SnapshotCorruptError extends Error {
  override readonly name = 'SnapshotCorruptError';
}

/**
 * File format (valid JSON, so it stays readable with jq):
 *
 *   {"seq":<seq>,"timestamp":<ms>,"engine":<engine snapshot JSON>,"crc32":<crc>}
 *
 * crc32 is zlib's CRC-32 of the UTF-8 bytes of the engine snapshot text. The text is embedded as a
 * JSON value, not as a string, so that it is never escaped or copied again; the checksum comes
 * last so that the text can be converted, checksummed and written in chunks, each one a short
 * pause of the event loop rather than one long one.
 */
const HEADER = /^\{"seq":(\d+),"timestamp":(\d+),"engine":/;
const TRAILER = /,"crc32":(\d+)\}$/;
/** Long enough for the header or the trailer with any safe integers. */
const PROBE_BYTES = 64;
/** Characters converted and written at a time (exported for a test that straddles a boundary). */
export const WRITE_CHUNK_CHARS = 1 << 22;
const TEMP_SUFFIX = '.tmp';

/** Writes a snapshot atomically: temp file, fsync, rename, fsync of the directory. */
export async function writeSnapshot(dir: string, snapshot: Snapshot): Promise<void> {
  const { seq, timestamp, engineState } = snapshot;
  const finalPath = snapshotPath(dir, seq);
  const tempPath = finalPath + TEMP_SUFFIX;
  const file = await open(tempPath, 'w');
  try {
    // writeFile, unlike write, loops until everything is written; each continues where the last ended.
    await file.writeFile(`{"seq":${seq},"timestamp":${timestamp},"engine":`);
    let crc = 0;
    for (let start = 0; start < engineState.length; ) {
      let end = Math.min(start + WRITE_CHUNK_CHARS, engineState.length);
      // Never split a surrogate pair: each half alone would be encoded as U+FFFD.
      if (isHighSurrogate(engineState.charCodeAt(end - 1))) end += 1;
      const chunk = Buffer.from(engineState.slice(start, end), 'utf8');
      crc = crc32(chunk, crc);
      await file.writeFile(chunk);
      start = end;
    }
    await file.writeFile(`,"crc32":${crc}}`);
    await file.sync();
  } catch (err) {
    // A half-written snapshot (e.g. ENOSPC) must not keep the space it took from the journal.
    await file.close();
    await unlink(tempPath).catch(() => undefined);
    throw err;
  }
  await file.close();
  await rename(tempPath, finalPath);
  await fsyncDirectory(dir);
}

/** Reads and verifies a snapshot file; throws SnapshotCorruptError if it is damaged. */
export async function readSnapshot(file: SeqFile): Promise<Snapshot> {
  const bytes = await readFile(file.path);
  const header = HEADER.exec(bytes.subarray(0, PROBE_BYTES).toString('latin1'));
  const tailStart = Math.max(0, bytes.length - PROBE_BYTES);
  const trailer = TRAILER.exec(bytes.subarray(tailStart).toString('latin1'));
  if (!header || !trailer || header[0].length > tailStart + trailer.index) {
    throw new SnapshotCorruptError(`snapshot ${file.path} has no valid header or is truncated`);
  }
  const [, seqText, timestampText] = header;
  const body = bytes.subarray(header[0].length, tailStart + trailer.index);
  if (crc32(body) !== Number(trailer[1])) {
    throw new SnapshotCorruptError(`snapshot ${file.path} fails its checksum`);
  }
  const seq = Number(seqText);
  if (seq !== file.seq) {
    throw new SnapshotCorruptError(`snapshot ${file.path} says it is at seq ${seq}, its name says ${file.seq}`);
  }
  return { seq, timestamp: Number(timestampText), engineState: body.toString('utf8') };
}

/** Deletes temp files a crash left mid-write; they were never renamed, so nothing refers to them. */
export async function removeUnfinishedSnapshots(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.startsWith('snapshot-') && name.endsWith(TEMP_SUFFIX)) await unlink(join(dir, name));
  }
}

function isHighSurrogate(charCode: number): boolean {
  return charCode >= 0xd800 && charCode <= 0xdbff;
}
