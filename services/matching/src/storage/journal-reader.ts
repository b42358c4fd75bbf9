import { open, readFile } from 'node:fs/promises';
import type { Logger } from '@orderbook/server-kit';
import type { SeqFile } from './data-files';
import { JournalCorruptError } from './journal';
import { scanRecords } from './journal-record';

/**
 * Reads one journal segment's record payloads. Damage at the end of the LAST segment is what a
 * crash during a write leaves (a record that was never fsynced, so never acknowledged): it is cut
 * off the file, so that new records follow intact ones. Any other damage is an error, because the
 * records around it were acknowledged: damage followed by an intact record, or damage at the end
 * of a segment that a later one follows (a segment is only rolled after its last record is durable).
 */
export async function readSegment(segment: SeqFile, isLast: boolean, logger: Logger): Promise<readonly Buffer[]> {
  const bytes = await readFile(segment.path);
  const scan = scanRecords(bytes);
  if (scan.intactLength === bytes.length) return scan.payloads;

  if (scan.intactRecordAfterDamage !== undefined) {
    throw new JournalCorruptError(
      `journal segment ${segment.path} is damaged at byte ${scan.intactLength} and an intact record follows ` +
        `at byte ${scan.intactRecordAfterDamage}: refusing to start, because dropping the damaged record would ` +
        'lose acknowledged commands; restore the file from a replica or backup',
    );
  }
  if (!isLast) {
    throw new JournalCorruptError(
      `journal segment ${segment.path} ends with a damaged record at byte ${scan.intactLength} but later ` +
        'segments exist, so it was complete once: refusing to start; restore the file from a replica or backup',
    );
  }
  logger.warn(
    { segment: segment.path, offset: scan.intactLength, droppedBytes: bytes.length - scan.intactLength },
    'journal ends with a torn record (a write the crash interrupted, never acknowledged): truncating it',
  );
  const file = await open(segment.path, 'r+');
  try {
    await file.truncate(scan.intactLength);
    await file.sync();
  } finally {
    await file.close();
  }
  return scan.payloads;
}
