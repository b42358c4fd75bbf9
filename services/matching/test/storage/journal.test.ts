import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '@orderbook/engine';
import { expect } from 'chai';
import { decodeBatch } from '../../src/storage/command-codec';
import { journalPath, listJournalSegments, type SeqFile } from '../../src/storage/data-files';
import { FileJournal } from '../../src/storage/file-journal';
import { JournalCorruptError } from '../../src/storage/journal';
import { readSegment } from '../../src/storage/journal-reader';
import { RECORD_HEADER_BYTES } from '../../src/storage/journal-record';
import { rejectionOf, sampleCommands, silentLogger, tempDirs } from '../helpers';

const tempDir = tempDirs();

/** A journal appending to the segment whose first command is firstSeq. */
async function journalAt(dir: string, firstSeq: number): Promise<FileJournal> {
  const journal = new FileJournal(dir, { logger: silentLogger });
  await journal.roll(firstSeq);
  return journal;
}

async function writeJournal(dir: string, batches: readonly Command[][], firstSeq = 1): Promise<SeqFile> {
  const writer = await journalAt(dir, firstSeq);
  for (const batch of batches) await writer.append(batch);
  await writer.close();
  return { seq: firstSeq, path: journalPath(dir, firstSeq) };
}

async function readCommands(segment: SeqFile, isLast = true): Promise<Command[]> {
  return (await readSegment(segment, isLast, { logger: silentLogger })).flatMap(decodeBatch);
}

/** A copy of the segment with its bytes replaced, in a directory of its own. */
function variant(segment: SeqFile, bytes: Buffer): SeqFile {
  const dir = tempDir();
  const copy = { seq: segment.seq, path: journalPath(dir, segment.seq) };
  writeFileSync(copy.path, bytes);
  return copy;
}

describe('journal', () => {
  const first = sampleCommands(1, 5);
  const last = sampleCommands(6, 2);

  it('reads back the batches it wrote, one record per batch', async () => {
    const dir = tempDir();
    const writer = await journalAt(dir, 1);
    expect(decodeBatch(Buffer.from(await writer.append(first))), 'append resolves with the batch as encoded').to.deep.equal(first);
    await writer.append(last);
    expect(writer.stats()).to.deep.equal({ batches: 2, commands: 7, largestBatch: 5 });
    await writer.close();
    const segment = { seq: 1, path: journalPath(dir, 1) };
    expect(await readCommands(segment)).to.deep.equal([...first, ...last]);
  });

  it('continues a segment after reopening and starts a new file on roll', async () => {
    const dir = tempDir();
    await writeJournal(dir, [first]);
    const writer = await journalAt(dir, 1);
    await writer.append(last);
    await writer.roll(8);
    await writer.append(sampleCommands(8, 1));
    await writer.close();
    const segments = await listJournalSegments(dir);
    expect(segments.map((s) => s.seq)).to.deep.equal([1, 8]);
    expect(await readCommands(segments[0], false)).to.deep.equal([...first, ...last]);
    expect(await readCommands(segments[1])).to.deep.equal(sampleCommands(8, 1));
  });

  it('refuses overlapping appends (only the last record may ever be torn)', async () => {
    const writer = await journalAt(tempDir(), 1);
    const inFlight = writer.append(first);
    expect((await rejectionOf(writer.append(last))).message).to.match(/overlap/);
    await inFlight;
    await writer.close();
  });

  describe('a damaged last record', () => {
    let segment: SeqFile;
    let bytes: Buffer;
    let lastRecordAt: number;

    before(async () => {
      const dir = tempDir();
      segment = await writeJournal(dir, [first]);
      lastRecordAt = statSync(segment.path).size;
      await writeJournal(dir, [last]);
      bytes = readFileSync(segment.path);
    });

    it('is cut off when torn at any byte offset, and the journal continues after the intact records', async () => {
      for (let cut = lastRecordAt; cut < bytes.length; cut++) {
        const torn = variant(segment, bytes.subarray(0, cut));
        expect(await readCommands(torn), `cut at ${cut}`).to.deep.equal(first);
        expect(statSync(torn.path).size, `cut at ${cut}`).to.equal(lastRecordAt);
      }
      const torn = variant(segment, bytes.subarray(0, bytes.length - 1));
      await readCommands(torn);
      const writer = await journalAt(join(torn.path, '..'), 1);
      await writer.append(last);
      await writer.close();
      expect(await readCommands(torn)).to.deep.equal([...first, ...last]);
    });

    it('stops recovery, naming file and offset, when it is complete but fails its checksum', async () => {
      // Every byte of the checksum and the payload, and the magic: the length stays intact, so the record is complete.
      const payloadOrChecksum = [lastRecordAt, ...Array.from({ length: bytes.length - lastRecordAt - 8 }, (_, i) => lastRecordAt + 8 + i)];
      for (const at of payloadOrChecksum) {
        const flipped = Buffer.from(bytes);
        flipped[at] ^= 0x01;
        const damaged = variant(segment, flipped);
        await expectCorrupt(readCommands(damaged), new RegExp(`${damaged.path} ends with a complete record at byte ${lastRecordAt} that fails its checksum.*MATCHING_TRUNCATE_DAMAGED_TAIL=1`));
        expect(readFileSync(damaged.path).equals(flipped), `flip at ${at}: file left alone`).to.equal(true);
      }
    });

    it('is cut off when complete but damaged only when the operator says so', async () => {
      const flipped = Buffer.from(bytes);
      flipped[bytes.length - 3] ^= 0x01;
      const damaged = variant(segment, flipped);
      expect((await readSegment(damaged, true, { logger: silentLogger, truncateDamagedTail: true })).flatMap(decodeBatch)).to.deep.equal(first);
      expect(statSync(damaged.path).size).to.equal(lastRecordAt);
    });

    it('is cut off as torn when its length says it runs past the end of the file', async () => {
      const longer = Buffer.from(bytes);
      longer.writeUInt32LE(longer.readUInt32LE(lastRecordAt + 4) + 1, lastRecordAt + 4);
      expect(await readCommands(variant(segment, longer))).to.deep.equal(first);
    });

    it('is cut off when the file ends in zeros (space allocated, data never written)', async () => {
      const zeros = variant(segment, Buffer.concat([bytes.subarray(0, lastRecordAt + 5), Buffer.alloc(4096)]));
      expect(await readCommands(zeros)).to.deep.equal(first);
    });
  });

  describe('damage before intact data', () => {
    it('is an error naming the file and offset when intact records follow, and leaves the file alone', async () => {
      const dir = tempDir();
      const segment = await writeJournal(dir, [sampleCommands(1, 3), sampleCommands(4, 3), sampleCommands(7, 3)]);
      const bytes = readFileSync(segment.path);
      const secondAt = bytes.indexOf(bytes.subarray(0, 4), 1);
      const damaged = Buffer.from(bytes);
      damaged[secondAt + RECORD_HEADER_BYTES + 10] ^= 0x20;
      writeFileSync(segment.path, damaged);
      await expectCorrupt(readCommands(segment), new RegExp(`${segment.path}.*damaged at byte ${secondAt}`));
      expect(readFileSync(segment.path).equals(damaged)).to.equal(true);
    });

    it('is an error when a damaged length hides the records after it', async () => {
      const dir = tempDir();
      const segment = await writeJournal(dir, [sampleCommands(1, 3), sampleCommands(4, 3), sampleCommands(7, 3)]);
      const bytes = readFileSync(segment.path);
      const damaged = Buffer.from(bytes);
      damaged.writeUInt32LE(bytes.length * 2, 4);
      writeFileSync(segment.path, damaged);
      await expectCorrupt(readCommands(segment), /damaged at byte 0/);
    });

    it('is an error at the end of a segment that a later segment follows', async () => {
      const dir = tempDir();
      const segment = await writeJournal(dir, [sampleCommands(1, 3), sampleCommands(4, 3)]);
      const bytes = readFileSync(segment.path);
      const copy = variant(segment, bytes.subarray(0, bytes.length - 3));
      copyFileSync(copy.path, segment.path);
      await expectCorrupt(readCommands(segment, false), /later segments exist/);
    });
  });
});

async function expectCorrupt(promise: Promise<unknown>, message: RegExp): Promise<void> {
  const error = await rejectionOf(promise);
  expect(error).to.be.instanceOf(JournalCorruptError);
  expect(error.message).to.match(message);
}
