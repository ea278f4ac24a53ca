import { appendFile, mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { HostSampleSchema } from "@ocore/proto/gen/ocore/agent/v1/metrics_pb.js";
import { describe, expect, it } from "vitest";
import { openSpool } from "./spool.js";

const sample = (sequence: number) =>
  create(HostSampleSchema, {
    sequence: BigInt(sequence),
    collectedAt: timestampFromMs(1_700_000_000_000 + sequence * 10_000),
    cpu: { usagePercent: 12.5, perCorePercent: [10, 15], load1: 0.5, cores: 2 },
    memory: { totalBytes: 8_000_000_000n, usedBytes: 2_000_000_000n },
    filesystems: [{ mount: "/", device: "/dev/vda1", fsType: "ext4", totalBytes: 100n, usedBytes: 50n }],
  });

const sequences = (samples: Array<{ sequence: bigint }>) => samples.map((entry) => Number(entry.sequence));
const tempDir = () => mkdtemp(path.join(os.tmpdir(), "ocore-spool-"));

describe("spool", () => {
  it("returns appended samples in order, after a given sequence, and forgets acknowledged ones", async () => {
    const spool = await openSpool({ directory: await tempDir(), maxBytes: 1024 * 1024 });
    for (let sequence = 1; sequence <= 5; sequence++) await spool.append(sample(sequence));
    expect(spool.size).toBe(5);
    const peeked = await spool.peek(3);
    expect(sequences(peeked)).toEqual([1, 2, 3]);
    expect(peeked[0]?.filesystems[0]?.mount).toBe("/");
    expect(sequences(await spool.peek(10, 3n))).toEqual([4, 5]);
    await spool.ack([2n, 4n, 99n]);
    expect(spool.size).toBe(3);
    expect(sequences(await spool.peek(10))).toEqual([1, 3, 5]);
    await spool.close();
  });

  it("stores files 0600 in a 0700 directory", async () => {
    const directory = path.join(await tempDir(), "spool");
    const spool = await openSpool({ directory, maxBytes: 1024 * 1024 });
    await spool.append(sample(1));
    expect((await stat(directory)).mode & 0o777).toBe(0o700);
    for (const name of await readdir(directory))
      expect((await stat(path.join(directory, name))).mode & 0o777).toBe(0o600);
    await spool.close();
  });

  it("stays within its byte cap by dropping the oldest samples, and counts them across restarts", async () => {
    const directory = await tempDir();
    const options = { directory, maxBytes: 20_000, segmentBytes: 2_000 };
    const spool = await openSpool(options);
    for (let sequence = 1; sequence <= 400; sequence++) {
      await spool.append(sample(sequence));
      expect(spool.bytes).toBeLessThanOrEqual(20_000);
    }
    const kept = sequences(await spool.peek(1000));
    expect(kept.at(-1)).toBe(400);
    // Oldest first: what is left is one contiguous run ending at the newest sample.
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, index) => 401 - kept.length + index));
    expect(spool.droppedCount).toBe(BigInt(400 - kept.length));
    expect(spool.droppedCount).toBeGreaterThan(0n);
    await spool.close();

    const reopened = await openSpool(options);
    expect(reopened.droppedCount).toBe(BigInt(400 - kept.length));
    expect(reopened.size).toBe(kept.length);
    await reopened.close();
  });

  it("survives a restart: unacknowledged samples come back, acknowledged ones do not", async () => {
    const directory = await tempDir();
    const first = await openSpool({ directory, maxBytes: 1024 * 1024, segmentBytes: 1000 });
    for (let sequence = 1; sequence <= 20; sequence++) await first.append(sample(sequence));
    await first.ack([1n, 2n, 3n, 10n]);
    // No close(): a crash leaves the files as they are.
    const second = await openSpool({ directory, maxBytes: 1024 * 1024, segmentBytes: 1000 });
    expect(second.size).toBe(16);
    expect(second.lastSequence).toBe(20n);
    const replayed = sequences(await second.peek(100));
    expect(replayed).not.toContain(10);
    expect(replayed[0]).toBe(4);
    await second.append(sample(21));
    expect(sequences(await second.peek(100)).at(-1)).toBe(21);
    await second.close();
  });

  it("deletes segments once every sample in them is acknowledged", async () => {
    const directory = await tempDir();
    const spool = await openSpool({ directory, maxBytes: 1024 * 1024, segmentBytes: 1000 });
    for (let sequence = 1; sequence <= 30; sequence++) await spool.append(sample(sequence));
    const before = (await readdir(directory)).filter((name) => name.endsWith(".log")).length;
    await spool.ack(Array.from({ length: 30 }, (_, index) => BigInt(index + 1)));
    expect(before).toBeGreaterThan(2);
    expect((await readdir(directory)).filter((name) => name.endsWith(".log"))).toEqual([]);
    expect(spool.size).toBe(0);
    await spool.close();
  });

  it("truncates a torn or corrupt tail instead of failing", async () => {
    const directory = await tempDir();
    const spool = await openSpool({ directory, maxBytes: 1024 * 1024 });
    for (let sequence = 1; sequence <= 3; sequence++) await spool.append(sample(sequence));
    await spool.close();
    const segment = path.join(
      directory,
      (await readdir(directory)).find((name) => name.endsWith(".log")) ?? "",
    );
    const intact = (await readFile(segment)).length;
    // A record header promising more bytes than were written, as a crash mid-write leaves it.
    await appendFile(segment, Buffer.from([0, 0, 1, 0, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 4, 9, 9]));
    const recoveries: unknown[] = [];
    const reopened = await openSpool({
      directory,
      maxBytes: 1024 * 1024,
      onRecovery: (event) => recoveries.push(event),
    });
    expect(sequences(await reopened.peek(10))).toEqual([1, 2, 3]);
    expect((await readFile(segment)).length).toBe(intact);
    expect(recoveries).toHaveLength(1);
    await reopened.close();

    // A flipped byte inside the last record: its checksum fails, the records before it remain.
    const bytes = await readFile(segment);
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] ?? 0) ^ 0xff;
    await writeFile(segment, bytes);
    const again = await openSpool({ directory, maxBytes: 1024 * 1024 });
    expect(sequences(await again.peek(10))).toEqual([1, 2]);
    await again.close();
  });
});
