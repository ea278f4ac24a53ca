import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import ssh2 from "ssh2";
import { ConfigError } from "../config/config-error.js";
import { sshCredentials } from "../db/schema/provisioning.js";
import type { Queryable } from "../db/transaction.js";
import { AppError } from "../errors/app-error.js";
import { deriveKey } from "../pki/derive-key.js";
import { type MasterKey, type MasterKeyring, masterKeyFromBase64 } from "../pki/master-key.js";
import { open, seal } from "../pki/secret-box.js";
import type { SshCredentials } from "./ssh-client.js";

// ssh2 is CommonJS and Node cannot see `utils` as a named export: take it from the default export.
const { utils } = ssh2;

const MAX_SECRET_BYTES = 16 * 1024;

/**
 * The keys that seal SSH credentials: OCORE_SSH_ENCRYPTION_KEY (and, while rotating, the former
 * keys in OCORE_SSH_ENCRYPTION_KEY_PREVIOUS); without one, a key derived from the master key
 * (HKDF, purpose "ocore ssh credentials v1"), so that a first start needs no setup.
 */
export function createSshKeyring(input: {
  readonly configured: { readonly current: string | undefined; readonly previous: readonly string[] };
  readonly masterKeys: readonly MasterKey[];
}): MasterKeyring {
  const keys = input.configured.current
    ? [input.configured.current, ...input.configured.previous].map(masterKeyFromBase64)
    : [];
  // Keys derived from the master keys stay readable, so setting a dedicated key later is a rotation too.
  for (const master of input.masterKeys) {
    const key = Buffer.from(deriveKey(master, "ocore ssh credentials v1"));
    keys.push({ id: createHash("sha256").update(key).digest("base64url").slice(0, 8), key });
  }
  const current = keys[0];
  if (!current) throw new Error("an SSH keyring needs a key");
  const byId = new Map(keys.map((key) => [key.id, key]));
  return { current, find: (id) => byId.get(id) };
}

/** Checks credentials from a request: exactly one of password or private key, and a key that parses. */
export function checkCredentials(input: {
  readonly password?: string;
  readonly privateKey?: string;
  readonly passphrase?: string;
}): SshCredentials {
  const password = input.password ?? "";
  const privateKey = input.privateKey ?? "";
  const passphrase = input.passphrase ?? "";
  if (password && privateKey) {
    throw AppError.invalid("credentials", "give either a password or a private key, not both");
  }
  if (!password && !privateKey) {
    throw AppError.invalid("credentials", "give the SSH password or a private key (OpenSSH or PEM format)");
  }
  if (password) {
    if (Buffer.byteLength(password) > 1024) throw AppError.invalid("password", "is longer than 1024 bytes");
    if (passphrase) throw AppError.invalid("passphrase", "belongs to a private key; none was given");
    return { kind: "password", password };
  }
  if (Buffer.byteLength(privateKey) > MAX_SECRET_BYTES) {
    throw AppError.invalid("privateKey", "is larger than 16 KB; paste the private key file itself");
  }
  const parsed = utils.parseKey(privateKey, passphrase || undefined);
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!first || first instanceof Error) {
    const why = first instanceof Error ? first.message : "unreadable";
    throw AppError.invalid(
      "privateKey",
      /passphrase|encrypted/i.test(why)
        ? `is encrypted and the passphrase does not open it (${why}); give the right passphrase`
        : `is not a private key ssh2 can read (${why}); paste the whole file, e.g. ~/.ssh/id_ed25519`,
    );
  }
  if (!first.isPrivateKey()) {
    throw AppError.invalid("privateKey", "is a public key; paste the private key (the file without .pub)");
  }
  return passphrase ? { kind: "private_key", privateKey, passphrase } : { kind: "private_key", privateKey };
}

const contextOf = (serverId: string) => `ssh credentials ${serverId}`;

/** Seals credentials for one server; the server id is the associated data. */
export function sealCredentials(
  keyring: MasterKeyring,
  serverId: string,
  credentials: SshCredentials,
): { sealed: string; keyId: string } {
  const sealed = seal(keyring, Buffer.from(JSON.stringify(credentials)), contextOf(serverId));
  return { sealed, keyId: keyring.current.id };
}

export function openCredentials(keyring: MasterKeyring, serverId: string, sealed: string): SshCredentials {
  let plaintext: Buffer;
  try {
    plaintext = open(keyring, sealed, contextOf(serverId)).plaintext;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const keyId = sealed.split(".")[1] ?? "?";
    throw new AppError(
      "failed_precondition",
      keyring.find(keyId)
        ? "the stored SSH credentials of this server do not decrypt (they were altered or belong to another server); add them again with ForgetCredentials and RetryProvisioning"
        : `the stored SSH credentials were encrypted with key ${keyId}, which this server does not have; set OCORE_SSH_ENCRYPTION_KEY (or add the old key to OCORE_SSH_ENCRYPTION_KEY_PREVIOUS), or enter the credentials again`,
    );
  }
  return JSON.parse(plaintext.toString("utf8")) as SshCredentials;
}

export async function storeCredentials(
  db: Queryable,
  keyring: MasterKeyring,
  serverId: string,
  credentials: SshCredentials,
  now: Date,
): Promise<void> {
  const { sealed, keyId } = sealCredentials(keyring, serverId, credentials);
  await db
    .insert(sshCredentials)
    .values({ serverId, kind: credentials.kind, sealed, keyId, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: sshCredentials.serverId,
      set: { kind: credentials.kind, sealed, keyId, updatedAt: now },
    });
}

/** The server's credentials, or undefined when none are kept; re-sealed under the current key when found under an old one. */
export async function findCredentials(
  db: Queryable,
  keyring: MasterKeyring,
  serverId: string,
  now: Date,
): Promise<SshCredentials | undefined> {
  const [row] = await db.select().from(sshCredentials).where(eq(sshCredentials.serverId, serverId));
  if (!row) return undefined;
  const credentials = openCredentials(keyring, serverId, row.sealed);
  if (row.keyId !== keyring.current.id) await storeCredentials(db, keyring, serverId, credentials, now);
  return credentials;
}

/** True when credentials are kept for the server (without opening them). */
export async function hasCredentials(db: Queryable, serverId: string): Promise<boolean> {
  const [row] = await db
    .select({ serverId: sshCredentials.serverId })
    .from(sshCredentials)
    .where(eq(sshCredentials.serverId, serverId));
  return row !== undefined;
}

/** Drops the stored credentials; true when there were some. */
export async function deleteCredentials(db: Queryable, serverId: string): Promise<boolean> {
  const deleted = await db
    .delete(sshCredentials)
    .where(eq(sshCredentials.serverId, serverId))
    .returning({ serverId: sshCredentials.serverId });
  return deleted.length > 0;
}
