import { once } from "node:events";
import { type AddressInfo, connect as tcpConnect } from "node:net";
import { createSecureContext, createServer, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestCa, issueServerCertificate, type TestCa } from "../test/test-pki.js";
import { createAgentTlsCredentials, secureConnect } from "./tls-credentials.js";

describe("the agent's TLS connection to its server", () => {
  let ca: TestCa;
  let server: ReturnType<typeof createServer>;
  let port: number;
  /** The ServerName (SNI) each accepted connection asked for (false: none). */
  const servernames: Array<string | false | null> = [];
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);

  beforeAll(async () => {
    ca = await createTestCa();
    const identity = await issueServerCertificate(ca); // SANs: DNS localhost, IP 127.0.0.1
    server = createServer({ key: identity.keyPem, cert: identity.certificatePem, ALPNProtocols: ["h2"] });
    server.on("secureConnection", (socket: TLSSocket) => {
      servernames.push(socket.servername);
      socket.end();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as AddressInfo).port;
    process.on("warning", onWarning);
  });
  afterAll(() => {
    process.off("warning", onWarning);
    server.close();
  });

  const open = async (host: string, caPem = ca.certificatePem) => {
    const socket = tcpConnect(port, "127.0.0.1");
    await once(socket, "connect");
    const result = await secureConnect(socket, host, createSecureContext({ ca: caPem }));
    return result;
  };
  /** Connects and waits until the server accepted the connection too. */
  const openAndAccept = async (host: string) => {
    const accepted = once(server, "secureConnection");
    const result = await open(host);
    await accepted;
    result.socket.destroy();
    return result;
  };

  it("sends no ServerName for an IP address and still verifies the certificate's IP SAN", async () => {
    servernames.length = 0;
    expect((await openAndAccept("127.0.0.1")).secure).toBe(true);
    expect(servernames).toEqual([false]);
    expect(
      warnings.filter((warning) => /ServerName|DEP0123/.test(`${warning.name} ${warning.message}`)),
    ).toEqual([]);
  });

  it("sends the ServerName of a DNS name", async () => {
    servernames.length = 0;
    await openAndAccept("localhost");
    expect(servernames).toEqual(["localhost"]);
  });

  it("refuses a certificate that does not name the host, or that another CA signed", async () => {
    await expect(open("127.0.0.2")).rejects.toThrow(/IP: 127.0.0.2 is not in the cert's list/);
    await expect(open("ocore.example.com")).rejects.toThrow(/does not match certificate's altnames/);
    const other = await createTestCa("another CA");
    await expect(open("127.0.0.1", other.certificatePem)).rejects.toThrow(
      /self.signed|unable to verify|issuer/i,
    );
  });

  it("makes grpc-js channel credentials", () => {
    const credentials = createAgentTlsCredentials("127.0.0.1", { caPem: ca.certificatePem });
    expect(credentials._isSecure()).toBe(true);
    expect(credentials._equals(credentials)).toBe(true);
    expect(credentials._equals(createAgentTlsCredentials("127.0.0.1", { caPem: ca.certificatePem }))).toBe(
      false,
    );
  });
});
