import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { expect } from 'chai';
import { Engine } from '@orderbook/engine';
import { journalPath, snapshotPath } from '../../src/storage/data-files';
import { FileJournal } from '../../src/storage/file-journal';
import { writeSnapshot } from '../../src/storage/snapshot-store';
import { renderDataDirReport, verifyDataDir } from '../../src/storage/verify-data-dir';
import { sampleCommands, silentLogger, tempDirs } from '../helpers';
import { LOAD_ENGINE_CONFIG } from '../random-load';

const tempDir = tempDirs();

/** A directory with segment 1 (seqs 1..6 in two records), a snapshot at 6 and segment 7 (seqs 7..9). */
async function dataDir(): Promise<string> {
  const dir = tempDir();
  const journal = new FileJournal(dir, { logger: silentLogger });
  await journal.roll(1);
  await journal.append(sampleCommands(1, 3));
  await journal.append(sampleCommands(4, 3));
  const engine = new Engine(LOAD_ENGINE_CONFIG);
  for (const command of sampleCommands(1, 6)) engine.apply(command);
  await writeSnapshot(dir, { seq: 6, timestamp: 1, engineState: engine.snapshot() });
  await journal.roll(7);
  await journal.append(sampleCommands(7, 3));
  await journal.close();
  return dir;
}

describe('verify-data (offline check of a data directory)', () => {
  it('reports each segment, snapshot and the seqs they cover, and OK for a sound directory', async () => {
    const dir = await dataDir();
    const report = await verifyDataDir(dir);
    expect(report.ok).to.equal(true);
    expect(report.segments.map((s) => [s.records, s.seqs])).to.deep.equal([
      [2, { first: 1, last: 6 }],
      [1, { first: 7, last: 9 }],
    ]);
    expect(report.snapshots.map((s) => [s.seq, s.problems])).to.deep.equal([[6, []]]);
    expect(report.recovery).to.deep.equal({ fromSnapshotSeq: 6, toSeq: 9 });
    expect(renderDataDirReport(report)).to.match(/journal-0+7\.log .* seq 7\.\.9 {2}ok\n[\s\S]*result: OK/);
  });

  it('reports a torn tail as what start-up cuts by itself, still OK', async () => {
    const dir = await dataDir();
    appendFileSync(journalPath(dir, 7), Buffer.from([0x9e, 0x3a, 0xc0]));
    const report = await verifyDataDir(dir);
    expect(report.ok).to.equal(true);
    expect(report.segments[1]?.tornTailAt).to.equal(statSync(journalPath(dir, 7)).size - 3);
  });

  it('reports a complete but damaged last record, a damaged snapshot and a gap, naming each', async () => {
    const dir = await dataDir();
    const last = journalPath(dir, 7);
    const bytes = readFileSync(last);
    bytes[bytes.length - 2] ^= 0x01;
    writeFileSync(last, bytes);
    const report = await verifyDataDir(dir);
    expect(report.ok).to.equal(false);
    expect(report.segments[1]?.problems.join()).to.match(/complete record at byte 0 .* fails its checksum/);
    expect(renderDataDirReport(report)).to.match(/DAMAGED[\s\S]*result: DAMAGED/);

    const snapshot = snapshotPath(dir, 6);
    const snapshotBytes = readFileSync(snapshot);
    snapshotBytes[62]! ^= 0x10; // inside the first section (SEQN): 28-byte file header, 16-byte engine header, 16-byte section header
    writeFileSync(snapshot, snapshotBytes);
    const gapDir = await dataDir();
    writeFileSync(journalPath(gapDir, 12), '');
    const [damagedSnapshot, gap] = [await verifyDataDir(dir), await verifyDataDir(gapDir)];
    expect(damagedSnapshot.snapshots[0]?.problems.join()).to.match(/is damaged: invalid engine snapshot: section SEQN fails its checksum \(at byte 16\)/);
    expect(damagedSnapshot.recovery.fromSnapshotSeq).to.equal(0);
    expect(gap.problems.join()).to.match(/journal-0+12\.log starts at seq 12 but the segment before ends at seq 9/);
  });
});
