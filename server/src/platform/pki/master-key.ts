import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ConfigError } from "../config/config-error.js";
import type { Logger } from "../logging/logger.js";

/** A 256-bit key and its id: the first 8 base64url characters of its SHA-256 (not secret). */
export interface MasterKey {
  readonly id: string;
  readonly key: Buffer;
}

/** The key that seals new data, and the former keys that may still open old data. */
export interface MasterKeyring {
  readonly current: MasterKey;
  find(id: string): MasterKey | undefined;
}

export function masterKeyFromBase64(value: string): MasterKey {
  const key = Buffer.from(value.trim(), "base64");
  if (key.length !== 32) throw new Error("a master key is 32 bytes in base64");
  return { id: createHash("sha256").update(key).digest("base64url").slice(0, 8), key };
}

export function createMasterKeyring(current: string, previous: readonly string[] = []): MasterKeyring {
  const keys = [current, ...previous].map(masterKeyFromBase64);
  const byId = new Map(keys.map((key) => [key.id, key]));
  return { current: keys[0] as MasterKey, find: (id) => byId.get(id) };
}

export const MASTER_KEY_FILE = "master.key";

/**
 * The master key in base64: OCORE_MASTER_KEY when set; otherwise `<dataDir>/master.key`, which
 * the very first start generates (mode 0600) so that `npm start` works without setup. There is
 * never a built-in default key.
 *
 * `sealedWith` is the id of the key the database's secrets are already sealed with, if any: a
 * new key could not open them (a replica started without the first server's key), so then this
 * refuses before writing anything rather than leave a useless master.key behind.
 */
export function loadOrCreateMasterKey(options: {
  readonly configured: string | undefined;
  readonly dataDir: string;
  readonly logger: Logger;
  readonly sealedWith?: string | undefined;
}): string {
  if (options.configured) return options.configured;
  const file = path.join(options.dataDir, MASTER_KEY_FILE);
  if (existsSync(file)) {
    const value = readFileSync(file, "utf8").trim();
    if (Buffer.from(value, "base64").length !== 32) {
      throw new ConfigError(
        "OCORE_MASTER_KEY",
        `${file} does not hold 32 bytes in base64`,
        "Restore the file from a backup, or set OCORE_MASTER_KEY to the key in use.",
      );
    }
    return value;
  }
  if (options.sealedWith) {
    throw new ConfigError(
      "OCORE_MASTER_KEY",
      `the database's secrets are sealed with master key ${options.sealedWith}, and this server has no master key (OCORE_MASTER_KEY is unset and there is no ${file})`,
      "Set OCORE_MASTER_KEY to the key the first server uses (the master.key in its data directory), or copy that file here.",
    );
  }
  const value = randomBytes(32).toString("base64");
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: "wx" });
  options.logger.warn(
    { file, keyId: masterKeyFromBase64(value).id },
    "generated a master key because OCORE_MASTER_KEY is unset; back this file up (it encrypts the CA's private key) or move it into OCORE_MASTER_KEY",
  );
  return value;
}
