import { status } from "@grpc/grpc-js";
import { and, asc, eq, sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import {
  connect,
  enroll,
  hostSample,
  newAgentKey,
  startTestGateway,
  type TestGateway,
} from "../../../test/support/agent-channel.js";
import { databaseKinds } from "../../../test/support/test-databases.js";
import { revokeServerCertificates } from "../../domain/agent-identity/revoke-server-certificates.js";
import { auditLog } from "../../platform/db/schema/audit.js";
import { metricSamples } from "../../platform/db/schema/metrics.js";
import { servers } from "../../platform/db/schema/servers.js";
import { createCaCertificate, createClientCertificate } from "../../platform/pki/certificates.js";
import { x509 } from "../../platform/pki/x509.js";
import { importSigningKey } from "../../platform/pki/x509-keys.js";

describe.each(databaseKinds)("agent gateway on %s", (kind) => {
  let t: TestGateway | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  /** Enrolls a new server's agent; returns its id and TLS identity. */
  async function enrolledAgent(gateway: TestGateway) {
    const serverId = await gateway.addServer();
    const key = await newAgentKey();
    const response = await enroll(gateway.port, gateway.pki.caCertificatePem, {
      token: await gateway.token(serverId),
      csrPem: key.csrPem,
    });
    return { serverId, certPem: response.certificatePem, keyPem: key.keyPem, response };
  }

  async function helloed(gateway: TestGateway, identity: { certPem: string; keyPem: string }) {
    const peer = connect(gateway.port, gateway.pki.caCertificatePem, identity);
    peer.send({ case: "hello", value: { agentVersion: "1.0.0", hostname: "h" } });
    const welcome = await peer.next();
    return { peer, welcome };
  }

  it("stores the host facts of the Hello on the server record", async () => {
    t = await startTestGateway(kind);
    const agent = await enrolledAgent(t);
    const peer = connect(t.port, t.pki.caCertificatePem, agent);
    peer.send({
      case: "hello",
      value: {
        agentVersion: "1.2.3",
        hostname: "db-1",
        osId: "debian",
        osVersion: "12",
        kernel: "6.1.0-18-amd64",
        architecture: "x86_64",
        cpuCores: 4,
        memoryTotalBytes: 8_589_934_592n,
        bootedAt: { seconds: 1_790_000_000n, nanos: 0 },
      },
    });
    await peer.next();
    const [row] = await t.database.db.select().from(servers).where(eq(servers.id, agent.serverId));
    expect(row?.agentVersion).toBe("1.2.3");
    expect(row?.facts).toEqual({
      hostname: "db-1",
      osId: "debian",
      osVersion: "12",
      kernel: "6.1.0-18-amd64",
      architecture: "x86_64",
      cpuCores: 4,
      memoryTotalBytes: 8_589_934_592,
      bootedAt: new Date(1_790_000_000_000).toISOString(),
    });
    peer.close();
  });

  it("enrolls an agent: a certificate for its server, signed by the CA, ≤ 30 days, CN = server id", async () => {
    t = await startTestGateway(kind);
    const { serverId, response } = await enrolledAgent(t);
    expect(response.serverId).toBe(serverId);
    expect(response.caCertificatePem).toBe(t.pki.caCertificatePem);
    const certificate = new x509.X509Certificate(response.certificatePem);
    expect(certificate.subjectName.getField("CN")).toEqual([serverId]);
    expect(await t.pki.isIssuedByCa(new Uint8Array(certificate.rawData))).toBe(true);
    const days = (certificate.notAfter.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(30);
    const [audited] = await t.database.db
      .select({ action: auditLog.action, actorType: auditLog.actorType, targetId: auditLog.targetId })
      .from(auditLog)
      .where(eq(auditLog.action, "agent.enroll"));
    expect(audited).toEqual({ action: "agent.enroll", actorType: "agent", targetId: serverId });
  });

  it("refuses a reused token, an expired token and garbage, each with a clear status", async () => {
    t = await startTestGateway(kind);
    const serverId = await t.addServer();
    const { csrPem } = await newAgentKey();
    const token = await t.token(serverId);
    await enroll(t.port, t.pki.caCertificatePem, { token, csrPem });
    await expect(enroll(t.port, t.pki.caCertificatePem, { token, csrPem })).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
      details: expect.stringMatching(/already used/),
    });

    const expiring = await t.token(serverId, 60_000);
    t.clock.advance(61_000);
    await expect(enroll(t.port, t.pki.caCertificatePem, { token: expiring, csrPem })).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
      details: expect.stringMatching(/expired/),
    });

    const fresh = await t.token(serverId);
    await expect(
      enroll(t.port, t.pki.caCertificatePem, {
        token: fresh,
        csrPem: "-----BEGIN CERTIFICATE REQUEST-----\nxx",
      }),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/csrPem/) });
    await expect(
      enroll(t.port, t.pki.caCertificatePem, { token: "oce1.nope", csrPem }),
    ).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
      details: expect.stringMatching(/malformed/),
    });
    // The garbage CSR did not burn the fresh token.
    await expect(enroll(t.port, t.pki.caCertificatePem, { token: fresh, csrPem })).resolves.toBeDefined();

    // Audited per source address: the first refusal of a window at once, the rest counted.
    const denied = () =>
      t?.database.db
        .select({ sourceIp: auditLog.sourceIp, detail: auditLog.detail, afterJson: auditLog.afterJson })
        .from(auditLog)
        .where(and(eq(auditLog.action, "agent.enroll"), eq(auditLog.result, "denied")))
        .orderBy(asc(auditLog.id));
    expect(await denied()).toMatchObject([
      { sourceIp: "127.0.0.1", detail: expect.stringMatching(/already used/) },
      { sourceIp: "127.0.0.1", detail: expect.stringMatching(/expired/) },
    ]);
  });

  it("refuses a stream without a certificate, or with one from another CA", async () => {
    t = await startTestGateway(kind);
    const anonymous = connect(t.port, t.pki.caCertificatePem);
    anonymous.send({ case: "hello", value: { agentVersion: "1.0.0" } });
    expect(await anonymous.ended).toMatchObject({
      code: status.UNAUTHENTICATED,
      details: expect.stringMatching(/no valid client certificate/),
    });

    // A look-alike CA that signs a certificate with a real server id as CN.
    const serverId = await t.addServer();
    const foreignCa = await createCaCertificate(new Date(), "foreign0");
    const issuer = {
      certificate: new x509.X509Certificate(foreignCa.certificatePem),
      signingKey: await importSigningKey(foreignCa.privateKeyPem),
    };
    const key = await newAgentKey();
    const csr = new x509.Pkcs10CertificateRequest(key.csrPem);
    const forged = await createClientCertificate(issuer, {
      publicKey: csr.publicKey,
      serverId,
      days: 7,
      now: new Date(),
    });
    const impostor = connect(t.port, t.pki.caCertificatePem, {
      certPem: forged.certificatePem,
      keyPem: key.keyPem,
    });
    impostor.send({ case: "hello", value: { agentVersion: "1.0.0" } });
    expect(await impostor.ended).toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it("takes identity only from the certificate: server A's certificate is server A whatever it says", async () => {
    t = await startTestGateway(kind);
    const a = await enrolledAgent(t);
    const b = await t.addServer("server-b");
    const peer = connect(t.port, t.pki.caCertificatePem, a);
    peer.send({ case: "hello", value: { agentVersion: "1.0.0", hostname: "server-b" } });
    const welcome = await peer.next();
    expect(welcome.payload.case === "welcome" && welcome.payload.value.serverId).toBe(a.serverId);
    peer.send({ case: "metricBatch", value: { samples: [hostSample(1)] } });
    await peer.next();
    const stored = await t.database.db.select({ serverId: metricSamples.serverId }).from(metricSamples);
    expect(stored).toEqual([{ serverId: a.serverId }]);
    const [serverB] = await t.database.db.select().from(servers).where(eq(servers.id, b));
    expect(serverB?.status).toBe("connecting");
    expect(serverB?.facts).toBeNull();
    const [serverA] = await t.database.db.select().from(servers).where(eq(servers.id, a.serverId));
    expect(serverA?.facts).toMatchObject({ hostname: "server-b", cpuCores: 0, bootedAt: null });
    peer.close();
  });

  it("refuses a revoked certificate at connect, and closes the live stream when revoked", async () => {
    t = await startTestGateway(kind);
    const agent = await enrolledAgent(t);
    const { peer } = await helloed(t, agent);
    await revokeServerCertificates(t.database.db, agent.serverId, t.clock.now());
    await t.gateway.sweep();
    expect(await peer.ended).toMatchObject({
      code: status.PERMISSION_DENIED,
      details: "certificate revoked: re-enroll the agent",
    });

    // An agent retrying in a loop: one audit entry at once, the repeats counted in one more.
    for (let attempt = 0; attempt < 20; attempt++) {
      const again = connect(t.port, t.pki.caCertificatePem, agent);
      expect(await again.ended).toMatchObject({
        code: status.PERMISSION_DENIED,
        details: "certificate revoked: re-enroll the agent",
      });
    }
    const refused = () =>
      t?.database.db
        .select({ sourceIp: auditLog.sourceIp, detail: auditLog.detail, afterJson: auditLog.afterJson })
        .from(auditLog)
        .where(and(eq(auditLog.action, "agent.connect"), eq(auditLog.result, "denied")))
        .orderBy(asc(auditLog.id));
    expect(await refused()).toEqual([
      { sourceIp: "127.0.0.1", detail: "certificate revoked: re-enroll the agent", afterJson: "null" },
    ]);
    const database = t.database;
    t.clock.advance(61_000);
    await t.gateway.close(); // writes what the window counted
    const rows = await database.db
      .select({ afterJson: auditLog.afterJson })
      .from(auditLog)
      .where(and(eq(auditLog.action, "agent.connect"), eq(auditLog.result, "denied")))
      .orderBy(asc(auditLog.id));
    expect(rows.map((row) => JSON.parse(row.afterJson)?.repeated ?? 1)).toEqual([1, 19]);
  });

  it("keeps one live stream per server: a newer stream replaces the older", async () => {
    t = await startTestGateway(kind);
    const agent = await enrolledAgent(t);
    const first = await helloed(t, agent);
    const second = await helloed(t, agent);
    expect(await first.peer.ended).toMatchObject({
      code: status.ABORTED,
      details: expect.stringMatching(/replaced/),
    });
    expect(second.welcome.payload.case).toBe("welcome");
    expect(t.gateway.registry.size).toBe(1);
    const [row] = await t.database.db.select().from(servers).where(eq(servers.id, agent.serverId));
    expect(row?.status).toBe("active");
    second.peer.close();
  });

  it("stores a batch once and acknowledges it each time it is sent", async () => {
    t = await startTestGateway(kind);
    const agent = await enrolledAgent(t);
    const { peer, welcome } = await helloed(t, agent);
    expect(welcome.payload.case === "welcome" && welcome.payload.value.metricsIntervalSeconds).toBe(10);
    const batch = { samples: [hostSample(1), hostSample(2), hostSample(3)] };
    for (let round = 0; round < 2; round++) {
      peer.send({ case: "metricBatch", value: batch });
      const ack = await peer.next();
      expect(ack.payload.case === "metricsAck" && ack.payload.value.sequences).toEqual([1n, 2n, 3n]);
    }
    const rows = await t.database.db.execute(sql`select count(*)::int as n from metric_samples`);
    expect(JSON.stringify(rows)).toContain('"n":3');
    peer.close();
  });

  it.each([
    ["a batch before Hello", "before", status.FAILED_PRECONDITION, /first message/],
    ["a CPU above 100 %", "cpu", status.INVALID_ARGUMENT, /samples\[1\]\.cpu\.usage_percent/],
    ["an empty batch", "empty", status.INVALID_ARGUMENT, /samples: is empty/],
  ])("closes the stream on %s, storing nothing", async (_name, variant, code, details) => {
    t = await startTestGateway(kind);
    const agent = await enrolledAgent(t);
    const peer = connect(t.port, t.pki.caCertificatePem, agent);
    if (variant !== "before") {
      peer.send({ case: "hello", value: { agentVersion: "1.0.0" } });
      await peer.next();
    }
    const bad = hostSample(2);
    if (bad.cpu) bad.cpu.usagePercent = 250;
    peer.send({
      case: "metricBatch",
      value: { samples: variant === "empty" ? [] : [hostSample(1), bad] },
    });
    expect(await peer.ended).toMatchObject({ code, details: expect.stringMatching(details) });
    expect(await t.database.db.select().from(metricSamples)).toEqual([]);
  });

  it("closes the stream on a message above 4 MiB without storing it", async () => {
    t = await startTestGateway(kind);
    const agent = await enrolledAgent(t);
    const peer = connect(t.port, t.pki.caCertificatePem, agent);
    peer.send({ case: "hello", value: { agentVersion: "1.0.0", hostname: "h".repeat(5 * 1024 * 1024) } });
    expect(await peer.ended).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    const [row] = await t.database.db.select().from(servers).where(eq(servers.id, agent.serverId));
    expect(row?.agentVersion ?? "").toBe("");
  });

  it("renews the certificate over the stream", async () => {
    t = await startTestGateway(kind);
    const agent = await enrolledAgent(t);
    const { peer } = await helloed(t, agent);
    const key = await newAgentKey("CN=someone-else");
    peer.send({ case: "renewCertificate", value: { csrPem: key.csrPem } });
    const renewed = await peer.next();
    if (renewed.payload.case !== "certificateRenewed") throw new Error(`got ${renewed.payload.case}`);
    const certificate = new x509.X509Certificate(renewed.payload.value.certificatePem);
    expect(certificate.subjectName.getField("CN")).toEqual([agent.serverId]);
    peer.close();
    const next = await helloed(t, { certPem: renewed.payload.value.certificatePem, keyPem: key.keyPem });
    expect(next.welcome.payload.case).toBe("welcome");
    next.peer.close();
  });

  it("shows a server offline when its stream drops or goes silent, with its last-seen time", async () => {
    t = await startTestGateway(kind, { silentAfterMs: 25_000, pingEveryMs: 10_000 });
    const serverRow = async (id: string) =>
      (await t?.database.db.select().from(servers).where(eq(servers.id, id)))?.[0];
    const dropping = await enrolledAgent(t);
    const silent = await enrolledAgent(t);
    const a = await helloed(t, dropping);
    const b = await helloed(t, silent);
    expect((await serverRow(silent.serverId))?.status).toBe("active");

    a.peer.close();
    await expect.poll(async () => (await serverRow(dropping.serverId))?.status).toBe("offline");

    const seenAt = t.clock.now();
    t.clock.advance(26_000);
    await t.gateway.sweep();
    expect((await b.peer.ended).code).toBe(status.UNAVAILABLE);
    await expect.poll(async () => (await serverRow(silent.serverId))?.status).toBe("offline");
    expect((await serverRow(silent.serverId))?.lastSeenAt?.getTime()).toBe(seenAt.getTime());
  });

  it("pings only a quiet stream, and closes none for silence in a round that ran late", async () => {
    t = await startTestGateway(kind, { silentAfterMs: 10_000, pingEveryMs: 4_000 });
    const agent = await enrolledAgent(t);
    const { peer } = await helloed(t, agent);
    const nextCase = async () => (await peer.next()).payload.case;

    // Heard from 3 s ago: no ping (the agent's own Ping is answered first, nothing before it).
    t.clock.advance(3_000);
    await t.gateway.sweep();
    peer.send({ case: "ping", value: { nonce: 1n } });
    expect(await nextCase()).toBe("pong");
    // Quiet for 4 s: pinged, once per 4 s while it stays quiet.
    t.clock.advance(4_000);
    await t.gateway.sweep();
    expect(await nextCase()).toBe("ping");
    t.clock.advance(1_000);
    await t.gateway.sweep();
    peer.send({ case: "ping", value: { nonce: 2n } });
    expect(await nextCase()).toBe("pong");

    // Silent for 11 s, but this process was stalled: kept; the next punctual round closes it.
    t.clock.advance(11_000);
    await t.gateway.sweep({ late: true });
    expect(t.gateway.registry.size).toBe(1);
    await t.gateway.sweep();
    expect((await peer.ended).code).toBe(status.UNAVAILABLE);
  });

  it("writes last-seen times of the streams heard from, and closes a removed server's at its next message", async () => {
    t = await startTestGateway(kind);
    const lastSeen = async (id: string) =>
      (await t?.database.db.select().from(servers).where(eq(servers.id, id)))?.[0]?.lastSeenAt?.getTime();
    const agent = await enrolledAgent(t);
    const { peer } = await helloed(t, agent);
    t.clock.advance(3_000);
    peer.send({ case: "ping", value: { nonce: 1n } });
    expect((await peer.next()).payload.case).toBe("pong");
    const heardAt = t.clock.now().getTime();
    await t.gateway.sweep();
    expect(await lastSeen(agent.serverId)).toBe(heardAt);

    // Removed while its stream is quiet: noticed once the agent speaks again.
    await t.database.db.delete(servers).where(eq(servers.id, agent.serverId));
    t.clock.advance(3_000);
    await t.gateway.sweep();
    expect(t.gateway.registry.size).toBe(1);
    peer.send({ case: "ping", value: { nonce: 2n } });
    expect((await peer.next()).payload.case).toBe("pong");
    await t.gateway.sweep();
    expect(await peer.ended).toMatchObject({
      code: status.PERMISSION_DENIED,
      details: expect.stringMatching(/removed/),
    });
  });
});
