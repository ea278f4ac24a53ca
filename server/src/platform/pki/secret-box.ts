import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { ConfigError } from "../config/config-error.js";
import type { MasterKeyring } from "./master-key.js";

const VERSION = "v1";

/**
 * Seals a secret with AES-256-GCM under the current master key. The envelope is
 * `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url), and `context` is bound as additional data
 * so a sealed value cannot be moved to another purpose.
 */
export function seal(keyring: MasterKeyring, plaintext: Buffer, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keyring.current.key, iv);
  cipher.setAAD(Buffer.from(context));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const parts = [iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString("base64url"));
  return [VERSION, keyring.current.id, ...parts].join(".");
}

export interface Opened {
  readonly plaintext: Buffer;
  /** True when the value was sealed under a previous key and should be sealed again. */
  readonly sealedWithPreviousKey: boolean;
}

/** The id of the master key a sealed value was sealed with (undefined when it is not one). */
export function sealedKeyId(sealed: string): string | undefined {
  const [version, keyId] = sealed.split(".");
  return version === VERSION && keyId ? keyId : undefined;
}

/** Opens a sealed value; a missing or wrong key is a ConfigError naming OCORE_MASTER_KEY. */
export function open(keyring: MasterKeyring, sealed: string, context: string): Opened {
  const [version, keyId, iv, tag, ciphertext] = sealed.split(".");
  if (version !== VERSION || !keyId || !iv || !tag || ciphertext === undefined) {
    throw new ConfigError(
      "OCORE_MASTER_KEY",
      `the stored ${context} private key is not a sealed value this server can read`,
      "Restore the database from a backup.",
    );
  }
  const key = keyring.find(keyId);
  if (!key) {
    throw new ConfigError(
      "OCORE_MASTER_KEY",
      `the ${context} private key was encrypted with master key ${keyId}, but this server has key ${keyring.current.id}`,
      "Set OCORE_MASTER_KEY to the key the first server used (its data directory's master.key), or add the old key to OCORE_MASTER_KEY_PREVIOUS while rotating.",
    );
  }
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.key, Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    const plaintext = Buffer.concat([
      decipher.update(Buffer.from(ciphertext, "base64url")),
      decipher.final(),
    ]);
    return { plaintext, sealedWithPreviousKey: key.id !== keyring.current.id };
  } catch {
    throw new ConfigError(
      "OCORE_MASTER_KEY",
      `the ${context} private key does not decrypt with master key ${keyId} (it was altered)`,
      "Restore the database from a backup.",
    );
  }
}
