import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMULATOR_CREDENTIALS, type S3Emulator, startS3Emulator } from "../../../test/support/s3-emulator.js";
import { loadConfig } from "../../platform/config/config.js";
import { ConfigError } from "../../platform/config/config-error.js";
import { type BackupStore, backupStorageKey, createDirectoryBackupStore } from "./backup-store.js";
import { openBackupStore } from "./open-backup-store.js";
import { createS3BackupStore } from "./s3-backup-store.js";

const MiB = 1024 * 1024;
const newKey = () => backupStorageKey(randomUUID(), randomUUID());
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

async function readAll(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of source) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

/** `total` bytes in 64 KiB chunks, then `after` (e.g. a failure, or waiting forever). */
async function* chunks(data: Buffer, after?: () => Promise<void>): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < data.length; offset += 64 * 1024) {
    yield data.subarray(offset, offset + 64 * 1024);
  }
  await after?.();
}

interface Subject {
  readonly store: BackupStore;
  /** Every object the store's backend holds, as relative storage keys. */
  objects(): Promise<string[]>;
}

const subjects: Record<"directory" | "s3", () => Promise<Subject & { close(): Promise<void> }>> = {
  async directory() {
    const root = await mkdtemp(path.join(os.tmpdir(), "ocore-store-"));
    const store = createDirectoryBackupStore(root);
    return {
      store,
      objects: async () =>
        (await readdir(root, { recursive: true, withFileTypes: true }))
          .filter((entry) => entry.isFile())
          .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name))),
      close: () => rm(root, { recursive: true, force: true }),
    };
  },
  async s3() {
    const emulator = await startS3Emulator();
    const store = createS3BackupStore({
      endpoint: emulator.endpoint,
      region: "us-east-1",
      bucket: emulator.bucket,
      prefix: "ocore/",
      forcePathStyle: true,
      credentials: EMULATOR_CREDENTIALS,
    });
    return {
      store,
      objects: async () => {
        const listed = await emulator.client.send(new ListObjectsV2Command({ Bucket: emulator.bucket }));
        return (listed.Contents ?? []).map((object) => {
          expect(object.Key).toMatch(/^ocore\//);
          return (object.Key ?? "").slice("ocore/".length);
        });
      },
      close: async () => {
        store.close?.();
        await emulator.close();
      },
    };
  },
};

describe.each(Object.keys(subjects) as Array<keyof typeof subjects>)("the %s backup store", (kind) => {
  let subject: Subject & { close(): Promise<void> };
  beforeAll(async () => {
    subject = await subjects[kind]();
  });
  afterAll(() => subject?.close());

  it("stores, serves and deletes an archive, with its size and SHA-256", async () => {
    const key = newKey();
    const data = randomBytes(300 * 1024 + 7);
    const stored = await subject.store.put(key, chunks(data));
    expect(stored).toEqual({ sizeBytes: data.length, sha256: sha256(data) });
    expect(await subject.objects()).toContain(key);
    expect((await readAll(subject.store.get(key))).equals(data)).toBe(true);
    await subject.store.delete(key);
    expect(await subject.objects()).not.toContain(key);
    await expect(readAll(subject.store.get(key))).rejects.toMatchObject({ code: "ENOENT" });
    await subject.store.delete(key); // deleting what is gone is not an error
  });

  it("stores an empty archive", async () => {
    const key = newKey();
    expect(await subject.store.put(key, chunks(Buffer.alloc(0)))).toEqual({
      sizeBytes: 0,
      sha256: sha256(Buffer.alloc(0)),
    });
    expect(await readAll(subject.store.get(key))).toHaveLength(0);
    await subject.store.delete(key);
  });

  it("refuses keys it did not make", async () => {
    await expect(subject.store.put("../etc/passwd", chunks(Buffer.from("x")))).rejects.toThrow(
      /invalid backup storage key/,
    );
  });

  it("streams a 20 MiB archive in parts and serves it back intact", async () => {
    const key = newKey();
    const data = randomBytes(20 * MiB + 12_345);
    const stored = await subject.store.put(key, chunks(data));
    expect(stored).toEqual({ sizeBytes: data.length, sha256: sha256(data) });
    expect(sha256(await readAll(subject.store.get(key)))).toBe(stored.sha256);
    await subject.store.delete(key);
  }, 60_000);

  it("leaves no object when the source fails after several parts", async () => {
    const key = newKey();
    const broken = new Error("the agent's stream broke off");
    await expect(
      subject.store.put(
        key,
        chunks(randomBytes(12 * MiB), async () => {
          throw broken;
        }),
      ),
    ).rejects.toBe(broken);
    expect(await subject.objects()).not.toContain(key);
    await expect(readAll(subject.store.get(key))).rejects.toMatchObject({ code: "ENOENT" });
  }, 60_000);

  it("leaves no object when the upload is aborted while the source stalls", async () => {
    const key = newKey();
    const controller = new AbortController();
    const stalled = new Promise<void>(() => {});
    const put = subject.store.put(
      key,
      chunks(randomBytes(11 * MiB), () => stalled),
      controller.signal,
    );
    setTimeout(() => controller.abort(new Error("the request was cancelled")), 1_000);
    const started = Date.now();
    await expect(put).rejects.toThrow(/cancelled|aborted/);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await subject.objects()).not.toContain(key);
  }, 60_000);
});

describe("opening the configured backup store", () => {
  let emulator: S3Emulator;
  beforeAll(async () => {
    emulator = await startS3Emulator("ocore-open");
  });
  afterAll(() => emulator?.close());

  const configOf = (env: Record<string, string>) =>
    loadConfig(
      {
        OCORE_BACKUP_STORE: "s3",
        OCORE_BACKUP_S3_ENDPOINT: emulator.endpoint,
        OCORE_BACKUP_S3_FORCE_PATH_STYLE: "on",
        OCORE_BACKUP_S3_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
        OCORE_BACKUP_S3_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
        ...env,
      },
      { cwd: "/srv/ocore" },
    ).instances;

  const refusal = async (env: Record<string, string>) => {
    const error = await openBackupStore(configOf(env)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  };

  it("opens an existing bucket", async () => {
    const store = await openBackupStore(configOf({ OCORE_BACKUP_S3_BUCKET: emulator.bucket }));
    const key = newKey();
    await store.put(key, chunks(Buffer.from("dump")));
    expect((await readAll(store.get(key))).toString()).toBe("dump");
    store.close?.();
  });

  it("names the setting to fix when the bucket does not exist", async () => {
    const error = await refusal({ OCORE_BACKUP_S3_BUCKET: "no-such-bucket" });
    expect(error.setting).toBe("OCORE_BACKUP_S3_BUCKET");
    expect(error.message).toContain(`bucket "no-such-bucket" at ${emulator.endpoint} does not exist`);
    expect(error.message).toMatch(/Create the bucket, or set OCORE_BACKUP_S3_BUCKET/);
  });

  it("names the credentials when the service refuses them, without echoing the secret", async () => {
    const error = await refusal({
      OCORE_BACKUP_S3_BUCKET: emulator.bucket,
      OCORE_BACKUP_S3_ACCESS_KEY_ID: "AKIAWRONG",
      OCORE_BACKUP_S3_SECRET_ACCESS_KEY: "wrong-secret-value",
    });
    expect(error.setting).toBe("OCORE_BACKUP_S3_ACCESS_KEY_ID");
    expect(error.message).not.toContain("wrong-secret-value");
  });
});
