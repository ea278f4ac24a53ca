import { appendFile, type FileHandle, open, readdir, readFile, rm, truncate } from "node:fs/promises";
import path from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { type HostSample, HostSampleSchema } from "@ocore/proto/gen/ocore/agent/v1/metrics_pb.js";
import { ensurePrivateDirectory, writeFileAtomic } from "../state/write-file-atomic.js";
import {
  decodeAcks,
  encodeAcks,
  encodeRecord,
  type RecordLocation,
  recordHeaderBytes,
  scanRecords,
} from "./spool-record.js";

/**
 * The on-disk buffer of samples the server has not acknowledged yet. Every sample goes here
 * first; the stream only sends what the spool holds. Bounded in bytes: when full, the oldest
 * segment goes, and a persisted counter says how many unacknowledged samples that dropped.
 */
export interface Spool {
  /** Appends and fsyncs a sample. */
  append(sample: HostSample): Promise<void>;
  /** Up to `limit` unacknowledged samples with a sequence above `after`, in sequence order. */
  peek(limit: number, after?: bigint): Promise<HostSample[]>;
  /** Forgets acknowledged samples; unknown sequences are ignored. */
  ack(sequences: readonly bigint[]): Promise<void>;
  /** Unacknowledged samples held. */
  readonly size: number;
  /** Bytes of segment files on disk. */
  readonly bytes: number;
  /** Unacknowledged samples discarded because the spool was full, over the agent's lifetime. */
  readonly droppedCount: bigint;
  /** The highest sequence ever held in the spool's current files (0 when empty). */
  readonly lastSequence: bigint;
  close(): Promise<void>;
}

export interface SpoolOptions {
  readonly directory: string;
  readonly maxBytes: number;
  /** Defaults to an eighth of maxBytes, at most 1 MiB: dropping one segment frees little. */
  readonly segmentBytes?: number;
  /** Told about truncated corrupt tails, so the caller can log them. */
  readonly onRecovery?: (event: { segment: string; keptBytes: number; lostBytes: number }) => void;
}

interface Segment {
  readonly number: number;
  readonly file: string;
  bytes: number;
  readonly records: RecordLocation[];
  readonly acked: Set<bigint>;
}

const segmentPattern = /^segment-(\d{12})\.log$/;
const segmentName = (number: number) => `segment-${String(number).padStart(12, "0")}.log`;
const unackedOf = (segment: Segment) => segment.records.length - segment.acked.size;

export async function openSpool(options: SpoolOptions): Promise<Spool> {
  const { directory, maxBytes } = options;
  const segmentBytes = options.segmentBytes ?? Math.min(1024 * 1024, Math.floor(maxBytes / 8));
  await ensurePrivateDirectory(directory);
  const droppedFile = path.join(directory, "dropped");
  let dropped = await readFile(droppedFile, "utf8").then(
    (text) => BigInt(text.trim() || "0"),
    () => 0n,
  );

  const segments: Segment[] = [];
  const bySequence = new Map<bigint, Segment>();
  let lastSequence = 0n;
  let writer: { segment: Segment; handle: FileHandle } | undefined;

  const names = (await readdir(directory)).filter((name) => segmentPattern.test(name)).sort();
  for (const name of names) {
    const file = path.join(directory, name);
    const bytes = await readFile(file);
    const { records, validBytes } = scanRecords(bytes);
    if (validBytes < bytes.length) {
      await truncate(file, validBytes);
      options.onRecovery?.({ segment: name, keptBytes: validBytes, lostBytes: bytes.length - validBytes });
    }
    const held = new Set(records.map((record) => record.sequence));
    const acks = await readFile(`${file}.acks`).then(decodeAcks, () => []);
    const segment: Segment = {
      number: Number(segmentPattern.exec(name)?.[1]),
      file,
      bytes: validBytes,
      records,
      acked: new Set(acks.filter((sequence) => held.has(sequence))),
    };
    for (const record of records) if (record.sequence > lastSequence) lastSequence = record.sequence;
    if (unackedOf(segment) === 0) {
      await removeSegmentFiles(segment);
      continue;
    }
    segments.push(segment);
    for (const record of records)
      if (!segment.acked.has(record.sequence)) bySequence.set(record.sequence, segment);
  }
  let nextSegmentNumber = (segments.at(-1)?.number ?? 0) + 1;

  // Operations run one at a time: appends, acks and drops all edit the same files and maps.
  let queue: Promise<unknown> = Promise.resolve();
  function exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = queue.then(operation);
    queue = result.catch(() => undefined);
    return result;
  }

  async function removeSegmentFiles(segment: Segment): Promise<void> {
    await rm(segment.file, { force: true });
    await rm(`${segment.file}.acks`, { force: true });
  }

  async function retire(segment: Segment): Promise<void> {
    if (writer?.segment === segment) {
      await writer.handle.close();
      writer = undefined;
    }
    segments.splice(segments.indexOf(segment), 1);
    for (const record of segment.records) bySequence.delete(record.sequence);
    await removeSegmentFiles(segment);
  }

  async function writableSegment(recordBytes: number): Promise<{ segment: Segment; handle: FileHandle }> {
    if (writer && writer.segment.bytes + recordBytes <= segmentBytes) return writer;
    if (writer) await writer.handle.close();
    const segment: Segment = {
      number: nextSegmentNumber++,
      file: path.join(directory, segmentName(nextSegmentNumber - 1)),
      bytes: 0,
      records: [],
      acked: new Set(),
    };
    segments.push(segment);
    writer = { segment, handle: await open(segment.file, "a", 0o600) };
    return writer;
  }

  const totalBytes = () => segments.reduce((sum, segment) => sum + segment.bytes, 0);

  return {
    append: (sample) =>
      exclusive(async () => {
        const record = encodeRecord(sample.sequence, toBinary(HostSampleSchema, sample));
        const { segment, handle } = await writableSegment(record.length);
        try {
          await handle.write(record);
          await handle.datasync();
        } catch (error) {
          // A partial record (disk full) would hide every later record from recovery: cut it off.
          await handle.truncate(segment.bytes).catch(() => undefined);
          throw error;
        }
        segment.records.push({
          sequence: sample.sequence,
          offset: segment.bytes + recordHeaderBytes,
          length: record.length - recordHeaderBytes,
        });
        segment.bytes += record.length;
        bySequence.set(sample.sequence, segment);
        if (sample.sequence > lastSequence) lastSequence = sample.sequence;
        let droppedNow = 0n;
        while (totalBytes() > maxBytes && segments.length > 1) {
          const oldest = segments[0] as Segment;
          droppedNow += BigInt(unackedOf(oldest));
          await retire(oldest);
        }
        if (droppedNow > 0n) {
          dropped += droppedNow;
          await writeFileAtomic(droppedFile, `${dropped}\n`);
        }
      }),

    peek: (limit, after = 0n) =>
      exclusive(async () => {
        const samples: HostSample[] = [];
        for (const segment of segments) {
          const wanted = segment.records.filter(
            (record) => record.sequence > after && !segment.acked.has(record.sequence),
          );
          if (wanted.length === 0) continue;
          const bytes = await readFile(segment.file);
          for (const record of wanted) {
            if (samples.length >= limit) return samples;
            const payload = bytes.subarray(record.offset, record.offset + record.length);
            samples.push(fromBinary(HostSampleSchema, payload));
          }
        }
        return samples;
      }),

    ack: (sequences) =>
      exclusive(async () => {
        const newlyAcked = new Map<Segment, bigint[]>();
        for (const sequence of sequences) {
          const segment = bySequence.get(sequence);
          if (!segment) continue;
          bySequence.delete(sequence);
          segment.acked.add(sequence);
          newlyAcked.set(segment, [...(newlyAcked.get(segment) ?? []), sequence]);
        }
        for (const [segment, acked] of newlyAcked) {
          if (unackedOf(segment) === 0) await retire(segment);
          // Not fsync'd: an ack lost in a crash only makes the server see that sample twice.
          else await appendFile(`${segment.file}.acks`, encodeAcks(acked), { mode: 0o600 });
        }
      }),

    get size() {
      return bySequence.size;
    },
    get bytes() {
      return totalBytes();
    },
    get droppedCount() {
      return dropped;
    },
    get lastSequence() {
      return lastSequence;
    },
    close: () =>
      exclusive(async () => {
        await writer?.handle.close();
        writer = undefined;
      }),
  };
}
