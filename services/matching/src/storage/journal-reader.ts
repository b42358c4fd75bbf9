import { open, readFile } from 'node:fs/promises';
import type { Logger } from '@orderbook/server-kit';
import type { SeqFile } from './data-files';
import { JournalCorruptError } from './journal';
import { scanRecords } from './journal-record';

export interface SegmentReadOptions {
  readonly logger: Logger;
  /** Operator's choice (MATCHING_TRUNCATE_DAMAGED_TAIL): cut a complete but damaged last record too. */
  readonly truncateDamagedTail?: boolean;
}

/**
 * Reads one journal segment's record payloads. A torn record at the end of the LAST segment is
 * what a crash during a write leaves (a record that was never fsynced, so never acknowledged): it
 * is cut off the file, so that new records follow intact ones. A complete record that fails its
 * checksum there may have been acknowledged: recovery stops, naming file and offset, unless the
 * operator said to cut it (options.truncateDamagedTail). Any other damage is an error, because the
 * records around it were acknowledged: damage followed by an intact record, or damage at the end
 * of a segment that a later one follows (a segment is only rolled after its last record is durable).
 */
export async function readSegment(segment: SeqFile, isLast: boolean, options: SegmentReadOptions): Promise<readonly Buffer[]> {
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
  const where = { segment: segment.path, offset: scan.intactLength, droppedBytes: bytes.length - scan.intactLength };
  if (scan.tail === 'damaged') {
    if (options.truncateDamagedTail !== true) {
      throw new JournalCorruptError(
        `journal segment ${segment.path} ends with a complete record at byte ${scan.intactLength} that fails its checksum ` +
          `(${where.droppedBytes} bytes): it may hold acknowledged commands, so recovery stops. Restore the file from a ` +
          'replica or backup, or start once with MATCHING_TRUNCATE_DAMAGED_TAIL=1 to cut it and lose what it held',
      );
    }
    options.logger.error(where, 'journal ends with a damaged record: cutting it as the operator asked (MATCHING_TRUNCATE_DAMAGED_TAIL=1); the commands it held are lost');
  } else {
    options.logger.warn(where, 'journal ends with a torn record (a write the crash interrupted, never acknowledged): truncating it');
  }
  const file = await open(segment.path, 'r+');
  try {
    await file.truncate(scan.intactLength);
    await file.sync();
  } finally {
    await file.close();
  }
  return scan.payloads;
}
