import tls from "node:tls";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  connect,
  enroll,
  hostSample,
  newAgentKey,
  silentLogger,
  TEST_MASTER_KEY,
} from "../../../test/support/agent-channel.js";
import { createTestClock } from "../../../test/support/test-clock.js";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { createEnrollmentToken } from "../../domain/agent-identity/create-enrollment-token.js";
import { createMetricWriter, type MetricWriter } from "../../domain/metrics/metric-writer.js";
import { servers } from "../../platform/db/schema/servers.js";
import { type AgentPki, ensureAgentPki } from "../../platform/pki/agent-pki.js";
import { createMasterKeyring } from "../../platform/pki/master-key.js";
import { x509 } from "../../platform/pki/x509.js";
import { type AgentGateway, createAgentGateway } from "../../startup/create-agent-gateway.js";

const DAY_MS = 86_400_000;

/** The certificate a new TLS connection to the gateway is served, checked against our CA. */
function servedCertificate(port: number, caPem: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: "127.0.0.1", port, ca: caPem, servername: "localhost", ALPNProtocols: ["h2"] },
      () => {
        const raw = socket.getPeerCertificate().raw;
        const trusted = socket.authorized;
        socket.destroy();
        if (trusted) resolve(raw);
        else reject(new Error(`the served certificate is not trusted: ${socket.authorizationError}`));
      },
    );
    socket.once("error", reject);
  });
}

const der = (pem: string) => Buffer.from(new x509.X509Certificate(pem).rawData);

describe.each(databaseKinds)("agent gateway certificate renewal on %s", (kind) => {
  let database: TestDatabase | undefined;
  let writer: MetricWriter | undefined;
  let gateway: AgentGateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    await writer?.close();
    await database?.close();
    gateway = writer = database = undefined;
  });

  async function enrolledAgent(db: TestDatabase["db"], pki: AgentPki, port: number) {
    const [row] = await db
      .insert(servers)
      .values({ name: `host-${Math.random().toString(36).slice(2, 8)}` })
      .returning({ id: servers.id });
    const serverId = (row as { id: string }).id;
    const { token } = await createEnrollmentToken(db, { serverId, caPin: pki.caPin, now: new Date() });
    const key = await newAgentKey();
    const response = await enroll(port, pki.caCertificatePem, { token, csrPem: key.csrPem });
    return { certPem: response.certificatePem, keyPem: key.keyPem };
  }

  it("renews the TLS certificate while running: new connections get it, a live stream keeps working", async () => {
    database = await createTestDatabase(kind);
    // The PKI's clock: the gateway certificate (397 days) was issued 380 days before the real
    // now, so it is valid today and expires in 17 days; the PKI first looks 40 days earlier.
    const pkiClock = createTestClock(new Date(Date.now() - 380 * DAY_MS));
    const pki = await ensureAgentPki(database.db, {
      keyring: createMasterKeyring(TEST_MASTER_KEY),
      hostnames: ["localhost", "127.0.0.1"],
      installationId: "00000000-test",
      logger: silentLogger,
      now: pkiClock.now,
    });
    pkiClock.advance(340 * DAY_MS);
    const original = pki.gateway;
    expect(original.notAfter.getTime() - Date.now()).toBeLessThan(18 * DAY_MS);

    writer = createMetricWriter(database.db, { logger: silentLogger });
    gateway = createAgentGateway({
      db: database.db,
      pki,
      writer,
      logger: silentLogger,
      version: "0.0.0-test",
      metricsIntervalSeconds: 10,
      certificateDays: 7,
      timing: { sweepEveryMs: 0, certificateCheckEveryMs: 50 },
    });
    const port = await gateway.listen("127.0.0.1", 0);

    // 57 days left by the PKI's clock: the periodic check keeps the certificate.
    const agent = await enrolledAgent(database.db, pki, port);
    const live = connect(port, pki.caCertificatePem, agent);
    live.send({ case: "hello", value: { agentVersion: "1.0.0", hostname: "h" } });
    expect((await live.next()).payload.case).toBe("welcome");
    expect(await servedCertificate(port, pki.caCertificatePem)).toEqual(der(original.certificatePem));

    // The PKI's clock reaches the real now: 17 days left, inside the 30-day renewal window.
    pkiClock.advance(40 * DAY_MS);
    await vi.waitFor(
      async () => {
        const served = await servedCertificate(port, pki.caCertificatePem);
        expect(served).not.toEqual(der(original.certificatePem));
        expect(served).toEqual(der(pki.gateway.certificatePem));
      },
      { timeout: 10_000, interval: 100 },
    );
    const renewed = new x509.X509Certificate(pki.gateway.certificatePem);
    expect(renewed.notAfter.getTime() - Date.now()).toBeGreaterThan(390 * DAY_MS);
    expect(await pki.isIssuedByCa(new Uint8Array(renewed.rawData))).toBe(true);

    // The stream opened before the renewal still carries metrics and their acknowledgements.
    live.send({ case: "metricBatch", value: { samples: [hostSample(1)] } });
    const ack = await live.next();
    expect(ack.payload.case).toBe("metricsAck");
    expect(ack.payload.value).toMatchObject({ sequences: [1n] });

    // A new agent connects over the renewed certificate.
    const second = connect(port, pki.caCertificatePem, await enrolledAgent(database.db, pki, port));
    second.send({ case: "hello", value: { agentVersion: "1.0.0", hostname: "h2" } });
    expect((await second.next()).payload.case).toBe("welcome");

    live.close();
    second.close();
  });
});
