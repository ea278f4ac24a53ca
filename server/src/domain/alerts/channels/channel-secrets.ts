import { createHash } from "node:crypto";
import { ConfigError } from "../../../platform/config/config-error.js";
import { AppError } from "../../../platform/errors/app-error.js";
import { deriveKey } from "../../../platform/pki/derive-key.js";
import type { MasterKey, MasterKeyring } from "../../../platform/pki/master-key.js";
import { open, seal } from "../../../platform/pki/secret-box.js";

/**
 * The keys that seal channel secrets (SMTP passwords, webhook signing secrets): derived from the
 * master key and the former master keys (HKDF, purpose "ocore alert channel secrets v1"), so a
 * master key rotation keeps old channels readable.
 */
export function createChannelKeyring(masterKeys: readonly MasterKey[]): MasterKeyring {
  const keys = masterKeys.map((master) => {
    const key = Buffer.from(deriveKey(master, "ocore alert channel secrets v1"));
    return { id: createHash("sha256").update(key).digest("base64url").slice(0, 8), key };
  });
  const current = keys[0];
  if (!current) throw new Error("a channel keyring needs a key");
  const byId = new Map(keys.map((key) => [key.id, key]));
  return { current, find: (id) => byId.get(id) };
}

const contextOf = (channelId: string) => `alert channel ${channelId}`;

/** Seals a channel's secret; the channel id is bound as associated data. */
export function sealChannelSecret(keyring: MasterKeyring, channelId: string, secret: string): string {
  return seal(keyring, Buffer.from(secret, "utf8"), contextOf(channelId));
}

export function openChannelSecret(keyring: MasterKeyring, channelId: string, sealed: string): string {
  try {
    return open(keyring, sealed, contextOf(channelId)).plaintext.toString("utf8");
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new AppError(
      "failed_precondition",
      "the channel's stored secret does not decrypt with this server's master key (was OCORE_MASTER_KEY changed without OCORE_MASTER_KEY_PREVIOUS?); delete the channel and create it again",
    );
  }
}
