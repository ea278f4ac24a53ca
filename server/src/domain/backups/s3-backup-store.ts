import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { S3BackupStoreConfig } from "../../platform/config/config.js";
import { type BackupStore, isBackupStorageKey, withAbort } from "./backup-store.js";

/** Where an S3-compatible store keeps archives: the OCORE_BACKUP_S3_* settings as parsed. */
export type S3StoreOptions = S3BackupStoreConfig;

/** Why the bucket cannot be used, so the caller can name the setting to fix. */
export class S3StoreUnusable extends Error {
  constructor(
    readonly reason: "no_bucket" | "denied" | "unreachable",
    message: string,
  ) {
    super(message);
    this.name = "S3StoreUnusable";
  }
}

export interface S3BackupStore extends BackupStore {
  /** Checks that the bucket exists and the credentials may use it (HeadBucket). */
  verify(): Promise<void>;
  close(): void;
}

/** Multipart part size: S3's minimum; at most `QUEUE` parts are in memory per upload. */
const PART_BYTES = 5 * 1024 * 1024;
const QUEUE = 4;

/**
 * Backups in an S3-compatible bucket. An upload streams in parts (lib-storage's Upload) while
 * its SHA-256 and size are computed; the object appears only when the multipart upload
 * completes. A failed or aborted upload aborts the multipart upload (a bucket lifecycle rule
 * "AbortIncompleteMultipartUpload" is the safety net if that abort cannot be delivered) and
 * deletes the key in case a single-part upload had already landed: no object is left.
 */
export function createS3BackupStore(options: S3StoreOptions): S3BackupStore {
  const client = new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: options.credentials,
    // Our own SHA-256 covers the archive; many S3-compatible servers reject the SDK's newer
    // default (CRC32 trailers on every upload), so checksums are sent only where S3 requires them.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const objectKey = (key: string) => {
    if (!isBackupStorageKey(key)) throw new Error(`invalid backup storage key "${key}"`);
    return `${options.prefix}${key}`;
  };
  const where = `bucket "${options.bucket}"${options.endpoint ? ` at ${options.endpoint}` : ""}`;
  const deleteObject = (key: string) =>
    client.send(new DeleteObjectCommand({ Bucket: options.bucket, Key: objectKey(key) }));

  return {
    async put(key, source, signal) {
      const Key = objectKey(key);
      const hash = createHash("sha256");
      let sizeBytes = 0;
      let failure: unknown;
      const counted = async function* () {
        try {
          for await (const chunk of withAbort(source, signal)) {
            hash.update(chunk);
            sizeBytes += chunk.length;
            yield chunk;
          }
        } catch (error) {
          failure = error;
          throw error;
        }
      };
      const upload = new Upload({
        client,
        params: { Bucket: options.bucket, Key, Body: Readable.from(counted(), { objectMode: false }) },
        partSize: PART_BYTES,
        queueSize: QUEUE,
        leavePartsOnError: false,
      });
      try {
        await upload.done();
        signal?.throwIfAborted();
      } catch (error) {
        await deleteObject(key).catch(() => undefined);
        throw failure ?? error;
      }
      return { sizeBytes, sha256: hash.digest("hex") };
    },
    async *get(key, signal) {
      let body: AsyncIterable<Uint8Array>;
      try {
        const response = await client.send(
          new GetObjectCommand({ Bucket: options.bucket, Key: objectKey(key) }),
          { abortSignal: signal },
        );
        body = response.Body as Readable;
      } catch (error) {
        if (error instanceof S3ServiceException && error.name === "NoSuchKey") {
          throw Object.assign(new Error(`the archive ${key} is not in ${where}`), { code: "ENOENT" });
        }
        throw error;
      }
      for await (const chunk of body) yield chunk;
    },
    async delete(key) {
      await deleteObject(key);
    },
    async verify() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: options.bucket }));
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        const name = (error as Error).name;
        if (status === 404 || name === "NotFound" || name === "NoSuchBucket") {
          throw new S3StoreUnusable("no_bucket", `${where} does not exist`);
        }
        if (status === 403 || status === 401) {
          throw new S3StoreUnusable("denied", `the credentials may not use ${where}`);
        }
        throw new S3StoreUnusable(
          "unreachable",
          `${where} cannot be reached (${(error as Error).message || name})`,
        );
      }
    },
    close() {
      client.destroy();
    },
  };
}
