import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { fetchPresentedCa } from "../identity/ca-pin.js";
import { certificateMatchesKey } from "../identity/certificate-lifetime.js";
import { createIdentityStore } from "../identity/identity-store.js";
import {
  createTestServerStore,
  startTestAgentServer,
  type TestAgentServer,
} from "../test/test-agent-server.js";
import { createTestCa, issueServerCertificate } from "../test/test-pki.js";
import { enroll } from "./enroll.js";
import { EnrollmentError } from "./enrollment-error.js";

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function startServer(): Promise<{
  server: TestAgentServer;
  store: ReturnType<typeof createTestServerStore>;
}> {
  const store = createTestServerStore();
  const server = await startTestAgentServer({ ca: await createTestCa(), store });
  closers.push(() => server.close());
  return { server, store };
}

describe("enroll", () => {
  it("pins the CA, sends a CSR, and stores key, certificate, CA and server with 0600", async () => {
    const { server, store } = await startServer();
    const stateDir = path.join(await mkdtemp(path.join(os.tmpdir(), "ocore-enroll-")), "state");
    const identityStore = createIdentityStore(stateDir);
    const address = `127.0.0.1:${server.port}`;

    const result = await enroll({
      server: address,
      token: server.token(),
      store: identityStore,
      agentVersion: "9.9.9",
    });

    expect(result.serverId).toBe("7d9e8f0a-1b2c-4d3e-8f4a-5b6c7d8e9f00");
    expect(store.enrollCalls).toHaveLength(1);
    expect(store.enrollCalls[0]?.agentVersion).toBe("9.9.9");
    expect(store.enrollCalls[0]?.csrPem).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    for (const name of ["key.pem", "cert.pem", "ca.pem", "state.json"]) {
      expect((await stat(path.join(stateDir, name))).mode & 0o777).toBe(0o600);
    }
    const identity = await identityStore.load();
    expect(certificateMatchesKey(identity.certificatePem, identity.keyPem)).toBe(true);
    expect(new X509Certificate(identity.certificatePem).subject).toBe(`CN=${result.serverId}`);
    expect(identity.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(await identityStore.findState()).toMatchObject({ server: address, serverId: result.serverId });
    expect(await readFile(path.join(stateDir, "ca.pem"), "utf8")).toContain("BEGIN CERTIFICATE");
  });

  it("refuses a server whose CA does not match the token, before sending the token", async () => {
    const { server, store } = await startServer();
    const otherCa = await createTestCa("some other CA");
    const { caPinOfPem } = await import("../identity/ca-pin.js");
    const token = server.token().replace(server.caPin, caPinOfPem(otherCa.certificatePem));
    const stateDir = await mkdtemp(path.join(os.tmpdir(), "ocore-enroll-"));

    const attempt = enroll({
      server: `127.0.0.1:${server.port}`,
      token,
      store: createIdentityStore(stateDir),
      agentVersion: "1",
    });

    await expect(attempt).rejects.toThrow(EnrollmentError);
    await expect(attempt).rejects.toThrow(
      `the server at 127.0.0.1:${server.port} presented a CA that does not match the token: wrong server or a man in the middle`,
    );
    expect(store.enrollCalls).toHaveLength(0);
    await expect(stat(path.join(stateDir, "key.pem"))).rejects.toThrow(/ENOENT/);
  });

  it("refuses malformed tokens and addresses with a clear message", async () => {
    const store = createIdentityStore(os.tmpdir());
    await expect(enroll({ server: "127.0.0.1:1", token: "hello", store, agentVersion: "1" })).rejects.toThrow(
      /not an oCore enrollment token/,
    );
    const token = `oce1.${"a".repeat(43)}.${"b".repeat(43)}`;
    await expect(enroll({ server: "https://x", token, store, agentVersion: "1" })).rejects.toThrow(
      /--server: .* host:port/,
    );
  });
});

describe("fetchPresentedCa on a plain TLS server", () => {
  it("walks the presented chain to the self-signed root, and fails when the root is not sent", async () => {
    const ca = await createTestCa();
    const leaf = await issueServerCertificate(ca);
    const listen = async (cert: string) => {
      const server = tls.createServer({ key: leaf.keyPem, cert }, (socket) => socket.end());
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      closers.push(() => server.close());
      return (server.address() as { port: number }).port;
    };
    const withChain = await fetchPresentedCa(
      "127.0.0.1",
      await listen(leaf.certificatePem + ca.certificatePem),
    );
    expect(
      withChain.der.equals(ca.certificate.rawData ? Buffer.from(ca.certificate.rawData) : Buffer.alloc(0)),
    ).toBe(true);
    await expect(fetchPresentedCa("127.0.0.1", await listen(leaf.certificatePem))).rejects.toThrow(
      /did not present its CA certificate/,
    );
  });
});
