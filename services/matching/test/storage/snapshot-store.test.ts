import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { expect } from 'chai';
import { listSnapshots, snapshotPath } from '../../src/storage/data-files';
import {
  readSnapshot,
  removeUnfinishedSnapshots,
  SnapshotCorruptError,
  WRITE_CHUNK_CHARS,
  writeSnapshot,
} from '../../src/storage/snapshot-store';
import { rejectionOf, tempDirs } from '../helpers';

const tempDir = tempDirs();
const engineState = JSON.stringify({ lastSeq: 42, users: { 'zoë': { USD: '100000000' } }, book: [1, 2, 3] });

describe('snapshot store', () => {
  it('writes a snapshot atomically under its seq and reads it back verified', async () => {
    const dir = tempDir();
    await writeSnapshot(dir, { seq: 42, timestamp: 1_700_000_000_123, engineState });
    const files = await listSnapshots(dir);
    expect(files).to.deep.equal([{ seq: 42, path: snapshotPath(dir, 42) }]);
    expect(await readSnapshot(files[0])).to.deep.equal({ seq: 42, timestamp: 1_700_000_000_123, engineState });
    expect(JSON.parse(readFileSync(files[0].path, 'utf8'))).to.have.property('engine');
    expect(existsSync(`${files[0].path}.tmp`)).to.equal(false);
  });

  it('writes a state longer than a chunk intact, a surrogate pair across the chunk boundary included', async () => {
    const dir = tempDir();
    const large = `{"s":"${'x'.repeat(WRITE_CHUNK_CHARS - 7)}\u{1F600}${'y'.repeat(WRITE_CHUNK_CHARS)}"}`;
    expect(large.charCodeAt(WRITE_CHUNK_CHARS - 1)).to.equal(0xd83d);
    await writeSnapshot(dir, { seq: 3, timestamp: 1, engineState: large });
    const read = await readSnapshot({ seq: 3, path: snapshotPath(dir, 3) });
    expect(read.engineState === large).to.equal(true);
  });

  it('rejects a snapshot with a flipped byte, a truncated one, and one renamed to another seq', async () => {
    const dir = tempDir();
    await writeSnapshot(dir, { seq: 7, timestamp: 1, engineState });
    const path = snapshotPath(dir, 7);
    const bytes = readFileSync(path);

    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 10] ^= 0x04;
    writeFileSync(path, flipped);
    expect(await rejectionOf(readSnapshot({ seq: 7, path }))).to.be.instanceOf(SnapshotCorruptError);

    writeFileSync(path, bytes.subarray(0, bytes.length - 1));
    expect(await rejectionOf(readSnapshot({ seq: 7, path }))).to.be.instanceOf(SnapshotCorruptError);

    writeFileSync(path, bytes);
    renameSync(path, snapshotPath(dir, 8));
    const renamed = await rejectionOf(readSnapshot({ seq: 8, path: snapshotPath(dir, 8) }));
    expect(renamed.message).to.match(/seq 7/);
  });

  it('removes temp files left by a crash mid-write', async () => {
    const dir = tempDir();
    writeFileSync(`${snapshotPath(dir, 9)}.tmp`, '{"seq":9');
    await removeUnfinishedSnapshots(dir);
    expect(existsSync(`${snapshotPath(dir, 9)}.tmp`)).to.equal(false);
  });
});
