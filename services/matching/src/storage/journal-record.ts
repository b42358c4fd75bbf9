import { crc32 } from 'node:zlib';

/**
 * The journal's on-disk record: one record per group-commit batch, so that the unit a crash can
 * tear (one write, not yet fsynced) is exactly one record.
 *
 *   offset 0  u32 LE  magic 0xB7C03A9E
 *   offset 4  u32 LE  payload length in bytes
 *   offset 8  u32 LE  CRC-32 (zlib's) of bytes 4..7 followed by the payload
 *   offset 12         payload
 *
 * The checksum covers the length, so a damaged length is caught like damaged data. The magic
 * lets a reader look for intact records after a damaged one cheaply: it contains the byte 0xC0,
 * which valid UTF-8 never uses, so the JSON payloads of earlier versions cannot contain it (a
 * binary payload may, by chance; the record must then also pass its checksum to count). No payload
 * ends in a zero byte (JSON ends in `]`, a binary batch in its end mark), which tells torn from damaged.
 */
const MAGIC = 0xb7c03a9e;
const MAGIC_BYTES = Buffer.from([0x9e, 0x3a, 0xc0, 0xb7]);
export const RECORD_HEADER_BYTES = 12;
/** A longer length can only come from damage: V8 cannot build a JSON string this long anyway. */
const MAX_PAYLOAD_BYTES = 1 << 30;

export function encodeRecord(payload: Buffer): Buffer {
  if (payload.length > MAX_PAYLOAD_BYTES) throw new RangeError(`journal record of ${payload.length} bytes is too long`);
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  record.writeUInt32LE(MAGIC, 0);
  record.writeUInt32LE(payload.length, 4);
  record.writeUInt32LE(crc32(payload, crc32(record.subarray(4, 8))), 8);
  payload.copy(record, RECORD_HEADER_BYTES);
  return record;
}

/**
 * What ends a segment that does not end with an intact record:
 * - torn: what an interrupted write leaves — fewer bytes than a header, a record whose length
 *   runs past the end of the file, or a record that ends in the zero bytes of space the file
 *   system allocated but the write never filled. Never acknowledged, so safe to cut.
 * - damaged: a complete record (its whole length is there) that fails its checksum, or bytes that
 *   are no record at all. It may have been acknowledged: cutting it could lose commands.
 */
export type TailKind = 'torn' | 'damaged';

export interface RecordScan {
  /** Payloads of the intact records from the start of the file, in order. */
  readonly payloads: readonly Buffer[];
  /** Where the intact prefix ends: the file length, or the offset of the first damaged record. */
  readonly intactLength: number;
  /** Offset of an intact record after the damaged one, if any: the damage is not at the tail. */
  readonly intactRecordAfterDamage?: number;
  /** How the bytes after intactLength look, when there are any. */
  readonly tail?: TailKind;
}

/** Splits a journal segment's bytes into records, stopping at the first damaged one. */
export function scanRecords(bytes: Buffer): RecordScan {
  const payloads: Buffer[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const payload = intactRecordAt(bytes, offset);
    if (payload === undefined) {
      const tail = tailKind(bytes, offset);
      const intactRecordAfterDamage = findIntactRecord(bytes, offset + 1);
      return intactRecordAfterDamage === undefined
        ? { payloads, intactLength: offset, tail }
        : { payloads, intactLength: offset, intactRecordAfterDamage, tail };
    }
    payloads.push(payload);
    offset += RECORD_HEADER_BYTES + payload.length;
  }
  return { payloads, intactLength: offset };
}

function tailKind(bytes: Buffer, offset: number): TailKind {
  const rest = bytes.subarray(offset);
  if (rest.length < RECORD_HEADER_BYTES) return 'torn';
  let written = rest.length;
  while (written > 0 && rest[written - 1] === 0) written -= 1;
  if (written === 0) return 'torn';
  if (rest.readUInt32LE(0) !== MAGIC) return 'damaged';
  const length = rest.readUInt32LE(4);
  if (length > MAX_PAYLOAD_BYTES) return 'damaged';
  const recordEnd = RECORD_HEADER_BYTES + length;
  // Past the end of the file, or ending in the zeros of space never written (no payload ends in
  // a zero byte): the write was interrupted.
  return recordEnd > rest.length || written < recordEnd ? 'torn' : 'damaged';
}

/** The payload of the record at offset, or undefined if no intact record starts there. */
function intactRecordAt(bytes: Buffer, offset: number): Buffer | undefined {
  if (bytes.length - offset < RECORD_HEADER_BYTES || bytes.readUInt32LE(offset) !== MAGIC) return undefined;
  const length = bytes.readUInt32LE(offset + 4);
  const end = offset + RECORD_HEADER_BYTES + length;
  if (length > MAX_PAYLOAD_BYTES || end > bytes.length) return undefined;
  const payload = bytes.subarray(offset + RECORD_HEADER_BYTES, end);
  const expected = bytes.readUInt32LE(offset + 8);
  return crc32(payload, crc32(bytes.subarray(offset + 4, offset + 8))) === expected ? payload : undefined;
}

function findIntactRecord(bytes: Buffer, from: number): number | undefined {
  for (let at = bytes.indexOf(MAGIC_BYTES, from); at !== -1; at = bytes.indexOf(MAGIC_BYTES, at + 1)) {
    if (intactRecordAt(bytes, at) !== undefined) return at;
  }
  return undefined;
}
