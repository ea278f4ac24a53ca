import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../test/support/agent-channel.js";
import { createTestClock } from "../../../test/support/test-clock.js";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { pkiCertificates } from "../db/schema/pki.js";
import { ensureAgentPki } from "./agent-pki.js";
import { installationKeyId } from "./installation-key-id.js";
import { createMasterKeyring, loadOrCreateMasterKey, masterKeyFromBase64 } from "./master-key.js";
import { x509 } from "./x509.js";

const keyA = randomBytes(32).toString("base64");
const keyB = randomBytes(32).toString("base64");
const options = (
  keyring: ReturnType<typeof createMasterKeyring>,
  hostnames = ["localhost", "127.0.0.1"],
) => ({
  keyring,
  hostnames,
  installationId: "12345678-abcd",
  logger: silentLogger,
});

describe.each(databaseKinds)("agent PKI on %s", (kind) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it("creates a P-256 CA and a gateway certificate once, keys sealed at rest, and loads them again", async () => {
    database = await createTestDatabase(kind);
    const first = await ensureAgentPki(database.db, options(createMasterKeyring(keyA)));
    const ca = new x509.X509Certificate(first.caCertificatePem);
    expect((ca.publicKey.algorithm as { namedCurve?: string }).namedCurve).toBe("P-256");
    expect(await ca.isSelfSigned()).toBe(true);
    const gateway = new x509.X509Certificate(first.gateway.certificatePem);
    expect(await first.isIssuedByCa(new Uint8Array(gateway.rawData))).toBe(true);
    const san = gateway.getExtension(x509.SubjectAlternativeNameExtension);
    expect(san?.names.items.map((name) => name.value)).toEqual(["localhost", "127.0.0.1"]);
    expect(first.gateway.certificateChainPem).toContain(first.caCertificatePem.trim());

    const rows = await database.db.select().from(pkiCertificates);
    for (const row of rows) {
      expect(row.sealedPrivateKey).toMatch(new RegExp(`^v1\\.${masterKeyFromBase64(keyA).id}\\.`));
      expect(row.sealedPrivateKey).not.toContain("PRIVATE KEY");
    }

    const again = await ensureAgentPki(database.db, options(createMasterKeyring(keyA)));
    expect(again.caCertificatePem).toBe(first.caCertificatePem);
    expect(again.gateway.privateKeyPem).toBe(first.gateway.privateKeyPem);
    expect(again.caPin).toBe(first.caPin);
  });

  it("refuses a wrong master key clearly, naming the setting and both key ids", async () => {
    database = await createTestDatabase(kind);
    await ensureAgentPki(database.db, options(createMasterKeyring(keyA)));
    const attempt = ensureAgentPki(database.db, options(createMasterKeyring(keyB)));
    await expect(attempt).rejects.toMatchObject({
      setting: "OCORE_MASTER_KEY",
      message: expect.stringContaining(
        `encrypted with master key ${masterKeyFromBase64(keyA).id}, but this server has key ${masterKeyFromBase64(keyB).id}`,
      ),
    });
  });

  it("rotates: a previous key opens, and the keys are sealed again under the current one", async () => {
    database = await createTestDatabase(kind);
    const before = await ensureAgentPki(database.db, options(createMasterKeyring(keyA)));
    const rotated = await ensureAgentPki(database.db, options(createMasterKeyring(keyB, [keyA])));
    expect(rotated.caCertificatePem).toBe(before.caCertificatePem);
    const rows = await database.db.select().from(pkiCertificates);
    for (const row of rows)
      expect(row.sealedPrivateKey).toMatch(new RegExp(`^v1\\.${masterKeyFromBase64(keyB).id}\\.`));
    await expect(ensureAgentPki(database.db, options(createMasterKeyring(keyB)))).resolves.toBeDefined();
  });

  it("issues a new gateway certificate when the host names change, under the same CA", async () => {
    database = await createTestDatabase(kind);
    const before = await ensureAgentPki(database.db, options(createMasterKeyring(keyA)));
    const after = await ensureAgentPki(
      database.db,
      options(createMasterKeyring(keyA), ["ocore.example.com"]),
    );
    expect(after.caCertificatePem).toBe(before.caCertificatePem);
    expect(after.gateway.certificatePem).not.toBe(before.gateway.certificatePem);
  });

  it("renews the gateway certificate within 30 days of expiry, once, and replicas adopt it", async () => {
    database = await createTestDatabase(kind);
    const clock = createTestClock();
    const replicaA = await ensureAgentPki(database.db, {
      ...options(createMasterKeyring(keyA)),
      now: clock.now,
    });
    const replicaB = await ensureAgentPki(database.db, {
      ...options(createMasterKeyring(keyA)),
      now: clock.now,
    });
    const heardA: string[] = [];
    const heardB: string[] = [];
    replicaA.onGatewayCertificate((certificate) => heardA.push(certificate.certificatePem));
    const stopB = replicaB.onGatewayCertificate((certificate) => heardB.push(certificate.certificatePem));
    const original = replicaA.gateway;

    clock.advance(366 * 86_400_000); // 31 days left: kept
    expect((await replicaA.refreshGatewayCertificate()).certificatePem).toBe(original.certificatePem);
    expect(heardA).toEqual([]);

    clock.advance(2 * 86_400_000); // 29 days left: renewed by the first replica that looks
    const renewed = await replicaA.refreshGatewayCertificate();
    expect(renewed.certificatePem).not.toBe(original.certificatePem);
    expect(renewed.notAfter.getTime() - clock.now().getTime()).toBe(397 * 86_400_000);
    expect(replicaA.gateway).toBe(renewed);
    expect(heardA).toEqual([renewed.certificatePem]);
    expect(await replicaB.refreshGatewayCertificate()).toMatchObject({
      certificatePem: renewed.certificatePem,
      privateKeyPem: renewed.privateKeyPem,
    });
    expect(heardB).toEqual([renewed.certificatePem]);
    stopB();

    await replicaA.refreshGatewayCertificate();
    expect(heardA).toHaveLength(1);
    expect(await database.db.select().from(pkiCertificates)).toHaveLength(2);
  });
});

describe.each(databaseKinds)("a server without the installation's master key on %s", (kind) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it("refuses before writing a master.key of its own (a replica started without the first server's key)", async () => {
    database = await createTestDatabase(kind);
    expect(await installationKeyId(database.db)).toBeUndefined();
    await ensureAgentPki(database.db, options(createMasterKeyring(keyA)));
    const sealedWith = await installationKeyId(database.db);
    expect(sealedWith).toBe(masterKeyFromBase64(keyA).id);

    const dataDir = mkdtempSync(path.join(os.tmpdir(), "ocore-key-"));
    expect(() =>
      loadOrCreateMasterKey({ configured: undefined, dataDir, logger: silentLogger, sealedWith }),
    ).toThrow(
      /OCORE_MASTER_KEY: the database's secrets are sealed with master key .+ and this server has no master key/,
    );
    expect(existsSync(path.join(dataDir, "master.key"))).toBe(false);
    // With the installation's key it starts as before.
    expect(loadOrCreateMasterKey({ configured: keyA, dataDir, logger: silentLogger, sealedWith })).toBe(keyA);
  });
});

describe("the master key file", () => {
  it("is generated once with mode 0600 when OCORE_MASTER_KEY is unset, then reused", () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "ocore-key-"));
    const first = loadOrCreateMasterKey({ configured: undefined, dataDir, logger: silentLogger });
    expect(Buffer.from(first, "base64")).toHaveLength(32);
    const file = path.join(dataDir, "master.key");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8").trim()).toBe(first);
    expect(loadOrCreateMasterKey({ configured: undefined, dataDir, logger: silentLogger })).toBe(first);
    expect(loadOrCreateMasterKey({ configured: keyA, dataDir, logger: silentLogger })).toBe(keyA);
  });
});
