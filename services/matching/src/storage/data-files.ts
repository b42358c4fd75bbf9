import { open, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Names of the files in a matching data directory. Sequence numbers are zero-padded so that a
 * directory listing reads in order; code still sorts numerically.
 *
 *   journal-<firstSeq>.log   a journal segment: the commands from firstSeq on
 *   snapshot-<seq>.snap      the engine state after command seq (binary, see snapshot-store.ts)
 */
const SEQ_DIGITS = 16;
const JOURNAL_NAME = /^journal-(\d+)\.log$/;
const SNAPSHOT_NAME = /^snapshot-(\d+)\.snap$/;

/** A data file and the sequence number in its name. */
export interface SeqFile {
  readonly seq: number;
  readonly path: string;
}

export function journalPath(dir: string, firstSeq: number): string {
  return join(dir, `journal-${String(firstSeq).padStart(SEQ_DIGITS, '0')}.log`);
}

export function snapshotPath(dir: string, seq: number): string {
  return join(dir, `snapshot-${String(seq).padStart(SEQ_DIGITS, '0')}.snap`);
}

/** Journal segments, oldest first. */
export function listJournalSegments(dir: string): Promise<SeqFile[]> {
  return listMatching(dir, JOURNAL_NAME);
}

/** Snapshots, oldest first. */
export function listSnapshots(dir: string): Promise<SeqFile[]> {
  return listMatching(dir, SNAPSHOT_NAME);
}

async function listMatching(dir: string, pattern: RegExp): Promise<SeqFile[]> {
  const files: SeqFile[] = [];
  for (const name of await readdir(dir)) {
    const match = pattern.exec(name);
    if (match) files.push({ seq: Number(match[1]), path: join(dir, name) });
  }
  return files.sort((a, b) => a.seq - b.seq);
}

/** Makes creations, renames and deletions in dir durable (an fsync of the file alone does not). */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The text of one of the directory's record files (markets.json, limits.json); undefined when there is none. */
export async function readRecordFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes one of dir's record files atomically and durably: a flushed temporary file renamed over it, then dir fsynced. */
export async function writeRecordFile(dir: string, path: string, text: string): Promise<void> {
  const temporary = `${path}.tmp`;
  await writeFile(temporary, text, { flush: true });
  await rename(temporary, path);
  await fsyncDirectory(dir);
}
