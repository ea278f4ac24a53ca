import { crc32 } from "node:zlib";

/**
 * One spooled sample on disk: a 16-byte header — payload length (u32), CRC-32 of sequence and
 * payload (u32), sequence (u64), all big-endian — then the HostSample's protobuf bytes.
 * The header repeats the sequence so recovery need not decode every sample.
 */
export const recordHeaderBytes = 16;

/** Larger than any real sample by far; a bigger length field is corruption. */
const maxPayloadBytes = 4 * 1024 * 1024;

export function encodeRecord(sequence: bigint, payload: Uint8Array): Buffer {
  const record = Buffer.allocUnsafe(recordHeaderBytes + payload.length);
  record.writeUInt32BE(payload.length, 0);
  record.writeBigUInt64BE(sequence, 8);
  record.set(payload, recordHeaderBytes);
  record.writeUInt32BE(crc32(record.subarray(8)), 4);
  return record;
}

export interface RecordLocation {
  readonly sequence: bigint;
  /** Offset of the payload (after the header). */
  readonly offset: number;
  readonly length: number;
}

/**
 * Walks the records of a segment file's bytes. Stops at the first record that is cut short or
 * fails its checksum: `validBytes` is where the intact prefix ends (a crash mid-write leaves a
 * torn tail, which the spool truncates).
 */
export function scanRecords(bytes: Buffer): { records: RecordLocation[]; validBytes: number } {
  const records: RecordLocation[] = [];
  let offset = 0;
  while (offset + recordHeaderBytes <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const end = offset + recordHeaderBytes + length;
    if (length > maxPayloadBytes || end > bytes.length) break;
    if (crc32(bytes.subarray(offset + 8, end)) !== bytes.readUInt32BE(offset + 4)) break;
    records.push({
      sequence: bytes.readBigUInt64BE(offset + 8),
      offset: offset + recordHeaderBytes,
      length,
    });
    offset = end;
  }
  return { records, validBytes: offset };
}

/** Acknowledged sequences are appended to a segment's `.acks` file, 8 bytes each. */
export function encodeAcks(sequences: readonly bigint[]): Buffer {
  const bytes = Buffer.allocUnsafe(sequences.length * 8);
  sequences.forEach((sequence, index) => {
    bytes.writeBigUInt64BE(sequence, index * 8);
  });
  return bytes;
}

export function decodeAcks(bytes: Buffer): bigint[] {
  const sequences: bigint[] = [];
  // A torn final entry (crash mid-append) is ignored: that sample is simply replayed once more.
  for (let offset = 0; offset + 8 <= bytes.length; offset += 8) sequences.push(bytes.readBigUInt64BE(offset));
  return sequences;
}
