import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";

/** What a stored archive is: its size and SHA-256 (hex), computed while it was written. */
export interface StoredObject {
  readonly sizeBytes: number;
  readonly sha256: string;
}

/**
 * Where backup archives live. Keys are relative paths chosen by oCore (`<server>/<backup>.tar`),
 * never by a user. A write is all or nothing: a failed or aborted write leaves no object.
 */
export interface BackupStore {
  put(key: string, source: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<StoredObject>;
  get(key: string, signal?: AbortSignal): AsyncIterable<Uint8Array>;
  delete(key: string): Promise<void>;
  /** Releases connections (an S3 client's sockets); nothing to do for a directory. */
  close?(): void;
}

const KEY = /^[0-9a-f-]{36}\/[0-9a-f-]{36}\.tar$/;

/** A key oCore made with backupStorageKey (stores refuse any other, so no path can escape). */
export function isBackupStorageKey(key: string): boolean {
  return KEY.test(key);
}

export function backupStorageKey(serverId: string, backupId: string): string {
  return `${serverId}/${backupId}.tar`;
}

/**
 * The default store: a directory (OCORE_BACKUP_DIR, default OCORE_DATA_DIR/backups). Archives are
 * written to a temporary name in the same directory and renamed into place once complete.
 */
export function createDirectoryBackupStore(root: string): BackupStore {
  const fileOf = (key: string) => {
    if (!isBackupStorageKey(key)) throw new Error(`invalid backup storage key "${key}"`);
    return path.join(root, key);
  };
  return {
    async put(key, source, signal) {
      const file = fileOf(key);
      await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      const partial = `${file}.${randomUUID()}.partial`;
      const hash = createHash("sha256");
      let sizeBytes = 0;
      const counted = async function* () {
        // The signal ends a source that stalls too (pipeline alone would wait for its next chunk).
        for await (const chunk of withAbort(source, signal)) {
          hash.update(chunk);
          sizeBytes += chunk.length;
          yield chunk;
        }
      };
      try {
        await pipeline(counted, createWriteStream(partial, { mode: 0o600 }), ...(signal ? [{ signal }] : []));
        await rename(partial, file);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
      return { sizeBytes, sha256: hash.digest("hex") };
    },
    async *get(key, signal) {
      const file = fileOf(key);
      await stat(file);
      const stream = createReadStream(file, { highWaterMark: 1024 * 1024, signal });
      for await (const chunk of stream) yield chunk as Buffer;
    },
    async delete(key) {
      await rm(fileOf(key), { force: true });
    },
  };
}

/** Ends the iteration with the signal's reason as soon as it aborts, even while a chunk is awaited. */
export async function* withAbort<T>(
  source: AsyncIterable<T>,
  signal: AbortSignal | undefined,
): AsyncIterable<T> {
  if (!signal) {
    yield* source;
    return;
  }
  signal.throwIfAborted();
  const iterator = source[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    while (true) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
    // Not awaited: a source blocked in next() would hold the abort up.
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}
