import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { decodeBatch } from './command-codec';
import { listJournalSegments, listSnapshots } from './data-files';
import { scanRecords } from './journal-record';
import { readSnapshot } from './snapshot-store';

/** One journal segment as found on disk. */
export interface SegmentReport {
  readonly file: string;
  readonly bytes: number;
  readonly records: number;
  /** Seqs of the commands in its intact records; undefined when it holds none. */
  readonly seqs?: { readonly first: number; readonly last: number };
  /** A short tail that recovery cuts by itself (a write a crash interrupted). */
  readonly tornTailAt?: number;
  readonly problems: readonly string[];
}

export interface SnapshotReport {
  readonly file: string;
  readonly seq: number;
  readonly problems: readonly string[];
}

export interface DataDirReport {
  readonly dir: string;
  readonly segments: readonly SegmentReport[];
  readonly snapshots: readonly SnapshotReport[];
  /** Where recovery would start from (the newest sound snapshot, 0 for none) and end (the journal's last seq). */
  readonly recovery: { readonly fromSnapshotSeq: number; readonly toSeq: number };
  /** Problems across files: gaps between segments, a journal that ends before a snapshot. */
  readonly problems: readonly string[];
  /** True when recovery would start without losing an acknowledged command and with no operator flag. */
  readonly ok: boolean;
}

/**
 * Checks a matching data directory without starting the service and without changing anything:
 * every journal record's checksum and the seqs inside, segments following each other without a
 * gap, every snapshot's checksum and seq, and whether the journal covers the newest snapshot.
 * Recovery applies the same rules at start; this says in advance what it would find.
 */
export async function verifyDataDir(dir: string): Promise<DataDirReport> {
  const segments: SegmentReport[] = [];
  const files = await listJournalSegments(dir);
  for (const [i, file] of files.entries()) segments.push(await verifySegment(file.path, file.seq, i === files.length - 1));

  const snapshots: SnapshotReport[] = [];
  for (const file of await listSnapshots(dir)) {
    try {
      await readSnapshot(file);
      snapshots.push({ file: file.path, seq: file.seq, problems: [] });
    } catch (err) {
      snapshots.push({ file: file.path, seq: file.seq, problems: [(err as Error).message] });
    }
  }

  const problems: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const previous = segments[i - 1]?.seqs;
    const next = files[i];
    if (previous !== undefined && next !== undefined && previous.last + 1 !== next.seq) {
      problems.push(`${basename(next.path)} starts at seq ${next.seq} but the segment before ends at seq ${previous.last}`);
    }
  }
  const fromSnapshotSeq = snapshots.filter((s) => s.problems.length === 0).at(-1)?.seq ?? 0;
  const firstSeq = files[0]?.seq;
  if (firstSeq !== undefined && firstSeq > fromSnapshotSeq + 1) {
    problems.push(`the journal starts at seq ${firstSeq}, but the newest sound snapshot is at seq ${fromSnapshotSeq}: commands ${fromSnapshotSeq + 1}..${firstSeq - 1} are missing`);
  }
  const toSeq = Math.max(fromSnapshotSeq, ...segments.map((s) => s.seqs?.last ?? 0));
  const newestSnapshot = snapshots.at(-1);
  if (newestSnapshot !== undefined && toSeq < newestSnapshot.seq) {
    problems.push(`the journal and sound snapshots end at seq ${toSeq}, but ${basename(newestSnapshot.file)} shows commands up to seq ${newestSnapshot.seq} were durable`);
  }
  const ok = problems.length === 0 && segments.every((s) => s.problems.length === 0);
  return { dir, segments, snapshots, recovery: { fromSnapshotSeq, toSeq }, problems, ok };
}

async function verifySegment(path: string, firstSeq: number, isLast: boolean): Promise<SegmentReport> {
  const bytes = await readFile(path);
  const scan = scanRecords(bytes);
  const problems: string[] = [];
  let expected = firstSeq;
  for (const [index, payload] of scan.payloads.entries()) {
    try {
      for (const command of decodeBatch(payload)) {
        if (command.seq !== expected) problems.push(`record ${index} holds seq ${command.seq} where seq ${expected} should be`);
        expected = command.seq + 1;
      }
    } catch (err) {
      problems.push(`record ${index} passes its checksum but does not decode: ${(err as Error).message}`);
    }
  }
  let tornTailAt: number | undefined;
  if (scan.intactLength < bytes.length) {
    const at = `byte ${scan.intactLength} (${bytes.length - scan.intactLength} bytes to the end)`;
    if (scan.intactRecordAfterDamage !== undefined) problems.push(`damaged at ${at}, and an intact record follows at byte ${scan.intactRecordAfterDamage}`);
    else if (!isLast) problems.push(`ends with a damaged record at ${at} although later segments exist`);
    else if (scan.tail === 'damaged') problems.push(`ends with a complete record at ${at} that fails its checksum (start refuses unless MATCHING_TRUNCATE_DAMAGED_TAIL=1)`);
    else tornTailAt = scan.intactLength;
  }
  const seqs = expected > firstSeq ? { first: firstSeq, last: expected - 1 } : undefined;
  return {
    file: path,
    bytes: (await stat(path)).size,
    records: scan.payloads.length,
    ...(seqs === undefined ? {} : { seqs }),
    ...(tornTailAt === undefined ? {} : { tornTailAt }),
    problems,
  };
}

/** The report as text for an operator. */
export function renderDataDirReport(report: DataDirReport): string {
  const lines = [`data directory ${report.dir}`, '', 'journal segments:'];
  if (report.segments.length === 0) lines.push('  (none)');
  for (const s of report.segments) {
    const range = s.seqs === undefined ? 'no commands' : `seq ${s.seqs.first}..${s.seqs.last}`;
    const state = s.problems.length > 0 ? 'DAMAGED' : s.tornTailAt !== undefined ? `ok, torn tail at byte ${s.tornTailAt} (cut at the next start)` : 'ok';
    lines.push(`  ${basename(s.file)}  ${s.bytes} bytes  ${s.records} records  ${range}  ${state}`);
    for (const problem of s.problems) lines.push(`    - ${problem}`);
  }
  lines.push('', 'snapshots:');
  if (report.snapshots.length === 0) lines.push('  (none)');
  for (const s of report.snapshots) {
    lines.push(`  ${basename(s.file)}  seq ${s.seq}  ${s.problems.length > 0 ? 'DAMAGED' : 'ok (checksum)'}`);
    for (const problem of s.problems) lines.push(`    - ${problem}`);
  }
  lines.push('', `recovery: from snapshot seq ${report.recovery.fromSnapshotSeq}, replaying the journal to seq ${report.recovery.toSeq}`);
  for (const problem of report.problems) lines.push(`  - ${problem}`);
  lines.push('', report.ok ? 'result: OK' : 'result: DAMAGED (see the problems above; start-up would refuse or lose commands)');
  return `${lines.join('\n')}\n`;
}
