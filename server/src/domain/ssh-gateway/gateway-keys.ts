import { eq } from "drizzle-orm";
import ssh2 from "ssh2";
import type { Db } from "../../platform/db/database.js";
import { sshGatewayKeys } from "../../platform/db/schema/ssh-gateway.js";
import type { MasterKeyring } from "../../platform/pki/master-key.js";
import { open, seal } from "../../platform/pki/secret-box.js";
import { hostKeyFingerprint } from "../../platform/ssh/host-key.js";

const { utils } = ssh2;

/** An ed25519 key of the gateway: the private key in OpenSSH form, the public key as one line. */
export interface GatewayKey {
  readonly privateKey: string;
  /** `ssh-ed25519 <base64>`. */
  readonly publicKey: string;
  readonly fingerprint: string;
}

const HOST_KEY = "host";
const contextOf = (name: string) => `ssh gateway key ${name}`;

/**
 * The gateway's host key: generated on the first start, sealed with the master key and kept in
 * the database, so every replica presents the same key.
 */
export function ensureGatewayHostKey(db: Db, keyring: MasterKeyring): Promise<GatewayKey> {
  return ensureKey(db, keyring, HOST_KEY, null);
}

/**
 * The key the gateway logs in to one server's sshd with (the agent installs its public half,
 * usable from the host's loopback only). One per server, so a leaked key opens one host.
 */
export function ensureServerGatewayKey(
  db: Db,
  keyring: MasterKeyring,
  serverId: string,
): Promise<GatewayKey> {
  return ensureKey(db, keyring, `server:${serverId}`, serverId);
}

async function ensureKey(
  db: Db,
  keyring: MasterKeyring,
  name: string,
  serverId: string | null,
): Promise<GatewayKey> {
  const existing = await load(db, keyring, name);
  if (existing) return existing;
  const pair = generateEd25519();
  const publicKey = pair.public.trim().split(/\s+/).slice(0, 2).join(" ");
  // Two replicas may race on the first start: the first insert wins and both read it back.
  await db
    .insert(sshGatewayKeys)
    .values({
      name,
      serverId,
      publicKey,
      sealedPrivateKey: seal(keyring, Buffer.from(pair.private), contextOf(name)),
    })
    .onConflictDoNothing();
  const stored = await load(db, keyring, name);
  if (!stored) throw new Error(`the SSH gateway key ${name} was not stored`);
  return stored;
}

/**
 * A fresh ed25519 pair that ssh2 itself can read back. ssh2's generator strips leading zero bytes
 * of the public key, so about one pair in 256 is malformed (mscdex/ssh2#1390, #1513) and a server
 * given one could not start its gateway: such a pair is thrown away and another made.
 */
export function generateEd25519(): { private: string; public: string } {
  for (let attempt = 0; attempt < 32; attempt++) {
    const pair = utils.generateKeyPairSync("ed25519", { comment: "" });
    if (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error))
      return pair;
  }
  throw new Error("could not generate a readable ed25519 key");
}

async function load(db: Db, keyring: MasterKeyring, name: string): Promise<GatewayKey | undefined> {
  const [row] = await db.select().from(sshGatewayKeys).where(eq(sshGatewayKeys.name, name));
  if (!row) return undefined;
  const privateKey = open(keyring, row.sealedPrivateKey, contextOf(name)).plaintext.toString("utf8");
  const blob = Buffer.from(row.publicKey.split(" ")[1] ?? "", "base64");
  return { privateKey, publicKey: row.publicKey, fingerprint: hostKeyFingerprint(blob) };
}

/** The line users paste into ~/.ssh/known_hosts for the gateway at `host:port`. */
export function knownHostsLine(host: string, port: number, publicKey: string): string {
  const name = port === 22 ? host : `[${host}]:${port}`;
  return `${name} ${publicKey}`;
}
