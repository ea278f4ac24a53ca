import { randomBytes, randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { generateUserKey } from "../../../test/support/sshd-host.js";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { sshCredentials } from "../db/schema/provisioning.js";
import { servers } from "../db/schema/servers.js";
import { masterKeyFromBase64 } from "../pki/master-key.js";
import {
  checkCredentials,
  createSshKeyring,
  findCredentials,
  openCredentials,
  sealCredentials,
  storeCredentials,
} from "./ssh-credentials.js";

const key = () => randomBytes(32).toString("base64");
const master = masterKeyFromBase64(key());

describe("sealing SSH credentials", () => {
  it("round-trips, binds the server id, and never contains the secret in clear", () => {
    const keyring = createSshKeyring({ configured: { current: key(), previous: [] }, masterKeys: [master] });
    const serverId = randomUUID();
    const { sealed, keyId } = sealCredentials(keyring, serverId, {
      kind: "password",
      password: "hunter2-secret",
    });
    expect(sealed).not.toContain("hunter2");
    expect(sealed.split(".")[1]).toBe(keyId);
    expect(openCredentials(keyring, serverId, sealed)).toEqual({
      kind: "password",
      password: "hunter2-secret",
    });
    expect(() => openCredentials(keyring, randomUUID(), sealed)).toThrow(/do not decrypt/);
    const tampered = `${sealed.slice(0, -2)}${sealed.endsWith("A") ? "B" : "A"}A`;
    expect(() => openCredentials(keyring, serverId, tampered)).toThrow(/do not decrypt/);
  });

  it("reads under a previous key and a key derived from the master key, and names a missing key", () => {
    const old = key();
    const derivedOnly = createSshKeyring({
      configured: { current: undefined, previous: [] },
      masterKeys: [master],
    });
    const serverId = randomUUID();
    const underDerived = sealCredentials(derivedOnly, serverId, { kind: "password", password: "p" }).sealed;
    const oldOnly = createSshKeyring({ configured: { current: old, previous: [] }, masterKeys: [master] });
    const underOld = sealCredentials(oldOnly, serverId, { kind: "password", password: "q" }).sealed;
    const rotated = createSshKeyring({
      configured: { current: key(), previous: [old] },
      masterKeys: [master],
    });
    expect(openCredentials(rotated, serverId, underDerived)).toMatchObject({ password: "p" });
    expect(openCredentials(rotated, serverId, underOld)).toMatchObject({ password: "q" });
    const stranger = createSshKeyring({
      configured: { current: key(), previous: [] },
      masterKeys: [masterKeyFromBase64(key())],
    });
    expect(() => openCredentials(stranger, serverId, underOld)).toThrow(/OCORE_SSH_ENCRYPTION_KEY/);
  });

  it("checks request credentials: one of password or key, a key that parses, its passphrase", () => {
    const plain = generateUserKey();
    const locked = generateUserKey("pass phrase");
    expect(checkCredentials({ password: "pw" })).toEqual({ kind: "password", password: "pw" });
    expect(checkCredentials({ privateKey: plain.privateKey }).kind).toBe("private_key");
    expect(checkCredentials({ privateKey: locked.privateKey, passphrase: "pass phrase" }).kind).toBe(
      "private_key",
    );
    expect(() => checkCredentials({})).toThrow(/give the SSH password or a private key/);
    expect(() => checkCredentials({ password: "pw", privateKey: plain.privateKey })).toThrow(/not both/);
    expect(() => checkCredentials({ privateKey: "not a key" })).toThrow(/^privateKey: is not a private key/);
    expect(() => checkCredentials({ privateKey: locked.privateKey, passphrase: "wrong" })).toThrow(
      /passphrase/,
    );
    expect(() => checkCredentials({ privateKey: plain.publicKey })).toThrow(/public key|not a private key/);
  });
});

describe.each(databaseKinds)("stored SSH credentials on %s", (kind) => {
  let database: TestDatabase;
  afterEach(() => database.close());

  it("re-seals credentials found under a previous key when they are used", async () => {
    database = await createTestDatabase(kind);
    const [server] = await database.db.insert(servers).values({ name: "s" }).returning();
    const id = server?.id ?? "";
    const old = key();
    const before = createSshKeyring({ configured: { current: old, previous: [] }, masterKeys: [master] });
    await storeCredentials(database.db, before, id, { kind: "password", password: "pw" }, new Date());
    const after = createSshKeyring({ configured: { current: key(), previous: [old] }, masterKeys: [master] });
    expect(await findCredentials(database.db, after, id, new Date())).toEqual({
      kind: "password",
      password: "pw",
    });
    const [row] = await database.db.select().from(sshCredentials);
    expect(row?.keyId).toBe(after.current.id);
    expect(row?.sealed).not.toContain('pw"');
  });
});
