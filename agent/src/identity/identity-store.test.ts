import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createTestCa, signClientCsr } from "../test/test-pki.js";
import { needsRenewal, readCertificateInfo } from "./certificate-lifetime.js";
import { createCertificateRenewal } from "./certificate-renewal.js";
import { createIdentityStore, NotEnrolledError } from "./identity-store.js";
import { generateKeyAndCsr } from "./key-pair.js";

async function enrolledStore(notAfter = new Date(Date.now() + 86_400_000)) {
  const ca = await createTestCa();
  const directory = path.join(await mkdtemp(path.join(os.tmpdir(), "ocore-identity-")), "state");
  const store = createIdentityStore(directory);
  const { keyPem, csrPem } = await generateKeyAndCsr("host-1");
  const certificatePem = await signClientCsr(ca, csrPem, { serverId: "s-1", notAfter });
  await store.saveEnrollment(
    { keyPem, certificatePem, caPem: ca.certificatePem },
    { server: "127.0.0.1:1", serverId: "s-1", enrolledAt: new Date().toISOString() },
  );
  return { ca, store, directory, keyPem, certificatePem };
}

describe("identity store", () => {
  it("tells how to enroll when nothing is there", async () => {
    const store = createIdentityStore(await mkdtemp(path.join(os.tmpdir(), "ocore-identity-")));
    await expect(store.load()).rejects.toThrow(NotEnrolledError);
    await expect(store.load()).rejects.toThrow(/ocore-agent enroll --server/);
  });

  it("renews: new key kept before the CSR leaves, certificate installed only if it fits that key", async () => {
    const { ca, store, directory, keyPem } = await enrolledStore();
    const renewal = await createCertificateRenewal({ store, now: Date.now, commonName: "host-1" });
    expect(renewal.needed()).toBe(false);
    const csrPem = await renewal.begin();
    expect((await stat(path.join(directory, "renewal-key.pem"))).mode & 0o777).toBe(0o600);
    // A certificate for some other key is refused and changes nothing.
    const stranger = await generateKeyAndCsr("x");
    await expect(
      renewal.complete(await signClientCsr(ca, stranger.csrPem, { serverId: "s-1" })),
    ).rejects.toThrow(/does not belong/);
    expect((await store.load()).keyPem).toBe(keyPem);
    await renewal.complete(await signClientCsr(ca, csrPem, { serverId: "s-1" }));
    const renewed = await store.load();
    expect(renewed.keyPem).not.toBe(keyPem);
    for (const name of ["key.pem", "cert.pem"])
      expect((await stat(path.join(directory, name))).mode & 0o777).toBe(0o600);
    await expect(stat(path.join(directory, "renewal-key.pem"))).rejects.toThrow(/ENOENT/);
  });

  it("repairs a renewal torn between writing the certificate and the key", async () => {
    const { ca, store, directory } = await enrolledStore();
    const next = await generateKeyAndCsr("host-1");
    await store.savePendingKey(next.keyPem);
    // The crash: the new certificate is in place, key.pem is still the old key.
    await writeFile(
      path.join(directory, "cert.pem"),
      await signClientCsr(ca, next.csrPem, { serverId: "s-1" }),
    );
    const repaired = await store.load();
    expect(repaired.keyPem).toBe(next.keyPem);
    expect(await readFile(path.join(directory, "key.pem"), "utf8")).toBe(next.keyPem);
  });

  it("asks for renewal once less than a third of the lifetime is left", () => {
    const info = { commonName: "s", notBefore: new Date(0), notAfter: new Date(30_000) };
    expect(needsRenewal(info, 19_999)).toBe(false);
    expect(needsRenewal(info, 20_001)).toBe(true);
  });

  it("reads the server id from the certificate", async () => {
    const { certificatePem } = await enrolledStore();
    expect(readCertificateInfo(certificatePem).commonName).toBe("s-1");
  });
});
