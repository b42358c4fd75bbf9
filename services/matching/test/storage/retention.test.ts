import { writeFileSync } from 'node:fs';
import { expect } from 'chai';
import { journalPath, listJournalSegments, listSnapshots, snapshotPath } from '../../src/storage/data-files';
import { pruneDataDir } from '../../src/storage/retention';
import { silentLogger, tempDirs } from '../helpers';

const tempDir = tempDirs();

describe('retention', () => {
  it('keeps the two newest snapshots and the journal from the older of them on', async () => {
    const dir = tempDir();
    for (const seq of [10, 20, 30]) writeFileSync(snapshotPath(dir, seq), '');
    for (const seq of [1, 11, 21, 31]) writeFileSync(journalPath(dir, seq), '');
    await pruneDataDir(dir, silentLogger);
    expect((await listSnapshots(dir)).map((s) => s.seq)).to.deep.equal([20, 30]);
    expect((await listJournalSegments(dir)).map((s) => s.seq)).to.deep.equal([21, 31]);
  });

  it('deletes nothing while there is only one snapshot to fall back from', async () => {
    const dir = tempDir();
    writeFileSync(snapshotPath(dir, 10), '');
    for (const seq of [1, 11]) writeFileSync(journalPath(dir, seq), '');
    await pruneDataDir(dir, silentLogger);
    expect((await listSnapshots(dir)).map((s) => s.seq)).to.deep.equal([10]);
    expect((await listJournalSegments(dir)).map((s) => s.seq)).to.deep.equal([1, 11]);
  });

  it('never deletes the last segment, even when a snapshot covers all it holds so far', async () => {
    const dir = tempDir();
    for (const seq of [10, 20]) writeFileSync(snapshotPath(dir, seq), '');
    writeFileSync(journalPath(dir, 5), '');
    await pruneDataDir(dir, silentLogger);
    expect((await listJournalSegments(dir)).map((s) => s.seq)).to.deep.equal([5]);
  });
});
