import { randomBytes } from "node:crypto";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AlertService } from "@ocore/proto/gen/ocore/api/v1/alert_service_pb.js";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../src/platform/db/database.js";
import { alertNotifications } from "../../src/platform/db/schema/alerts.js";
import { metricSamples } from "../../src/platform/db/schema/metrics.js";
import { servers } from "../../src/platform/db/schema/servers.js";
import { type ServerProcess, startServerProcess } from "../support/server-process.js";
import { startSmtpSink } from "../support/smtp-sink.js";
import { createPostgresDatabase, dropPostgresDatabase } from "../support/test-databases.js";
import { startWebhookReceiver } from "../support/webhook-receiver.js";

const STRONG = "correct horse battery staple 42";
const SECRET = "e2e-webhook-signing-secret";

async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The real server process on PostgreSQL: channels created through the API, a disk crossing its
 * threshold in the stored samples, the server killed (SIGKILL) while the webhook is failing, and
 * a new process that delivers what the first one left, once, and carries on evaluating.
 */
describe("alerts across a server crash", () => {
  let server: ServerProcess | undefined;
  let database: Database | undefined;
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    await server?.stop();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("loses no notification and sends none twice when the server is killed mid-delivery", async () => {
    const databaseUrl = await createPostgresDatabase();
    cleanups.push(() => dropPostgresDatabase(databaseUrl));
    const smtp = await startSmtpSink();
    cleanups.push(() => smtp.close());
    const webhook = await startWebhookReceiver(SECRET);
    cleanups.push(() => webhook.close());
    const env = {
      DATABASE_URL: databaseUrl,
      OCORE_MASTER_KEY: randomBytes(32).toString("base64"),
      OCORE_ALERT_EVALUATE_EVERY_SECONDS: "1",
      OCORE_ALERT_DISK_FOR_SECONDS: "2",
      // Grouping kept short (defaults: 30 s wait, 5 min interval); decision 0121.
      OCORE_ALERT_GROUP_WAIT_SECONDS: "0",
      OCORE_ALERT_GROUP_INTERVAL_SECONDS: "1",
    };
    server = await startServerProcess(env);
    database = createDatabase({ kind: "postgres", url: databaseUrl, poolSize: 2 });
    cleanups.push(async () => database?.close());
    const db = database.db;

    const transport = createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" });
    const oneTime = server.firstAdminPassword();
    const first = await createClient(AuthService, transport).login({ username: "admin", password: oneTime });
    const changed = await createClient(AuthService, transport).changePassword(
      { currentPassword: oneTime, newPassword: STRONG },
      { headers: { authorization: `Bearer ${first.tokens?.accessToken}` } },
    );
    const headers = { authorization: `Bearer ${changed.tokens?.accessToken}` };
    const secrets = [SECRET, STRONG, changed.tokens?.accessToken ?? "", changed.tokens?.refreshToken ?? ""];
    server.rememberSecret(...secrets);
    const alerts = createClient(AlertService, transport);
    const mail = await alerts.createChannel(
      {
        name: "ops mail",
        settings: {
          case: "email",
          value: {
            smtpHost: "127.0.0.1",
            smtpPort: smtp.port,
            security: "none",
            from: "ocore@example.com",
            to: ["ops@example.com"],
          },
        },
      },
      { headers },
    );
    const hook = await alerts.createChannel(
      { name: "ops hook", settings: { case: "webhook", value: { url: webhook.url, secret: SECRET } } },
      { headers },
    );

    const [host] = await db
      .insert(servers)
      .values({ name: "db-1", status: "active", lastSeenAt: new Date() })
      .returning();
    const serverId = host?.id as string;
    // What a connected agent's stream does: last-seen written every second (else presence shows
    // the server offline after 25 s and its disk alert would be held as unreachable).
    const heartbeat = setInterval(() => {
      void db.update(servers).set({ lastSeenAt: new Date() }).where(eq(servers.id, serverId));
    }, 1_000);
    cleanups.push(async () => clearInterval(heartbeat));
    let sequence = 0;
    const sample = (percent: number) => {
      const total = 50 * 2 ** 30;
      const used = Math.round((total * percent) / 100);
      sequence += 1;
      return db.insert(metricSamples).values({
        serverId,
        sequence,
        collectedAt: new Date(),
        receivedAt: new Date(),
        cpuPercent: 3,
        load1: 0.1,
        load5: 0.1,
        load15: 0.1,
        cpuCores: 2,
        memoryTotal: 2 ** 32,
        memoryUsed: 2 ** 30,
        memoryAvailable: 3 * 2 ** 30,
        memoryActive: 2 ** 30,
        swapTotal: 0,
        swapUsed: 0,
        diskUsedPercent: percent,
        diskReadBps: 0,
        diskWriteBps: 0,
        netRxBps: 0,
        netTxBps: 0,
        tcpConnections: 4,
        detail: {
          cores: [3, 3],
          fs: [["/", "/dev/vda1", "ext4", total, used, total - used]],
          disks: [],
          nics: [],
          containers: [],
        },
      });
    };

    // The webhook receiver is down: the mail goes out, the webhook waits for its next attempt.
    webhook.mode = "fail500";
    const crossedAt = Date.now();
    await sample(94);
    await until("the e-mail", () => smtp.mails.length === 1);
    await until("a failed webhook attempt", () => webhook.received.length === 1);
    const mailLatencyMs = Date.now() - crossedAt;
    // The crash comes after the e-mail's delivery is recorded: killed between the SMTP answer
    // and that record, the process would leave the row leased, and the next one would send it
    // again once the lease ran out (at least once: SMTP has no idempotency key).
    await until("the e-mail recorded as delivered", async () => {
      const [row] = await db
        .select({ status: alertNotifications.status })
        .from(alertNotifications)
        .where(eq(alertNotifications.channelId, mail.channel?.id as string));
      return row?.status === "delivered";
    });
    await until("the failed webhook attempt recorded", async () => {
      const [row] = await db
        .select({ status: alertNotifications.status })
        .from(alertNotifications)
        .where(eq(alertNotifications.channelId, hook.channel?.id as string));
      return row?.status === "pending";
    });
    expect(smtp.mails[0]?.subject).toBe("[FIRING] disk / on db-1 is 94% full (critical at 90%)");

    server.child.kill("SIGKILL");
    await new Promise((resolve) => server?.child.once("exit", resolve));
    server = undefined;
    const [left] = await db
      .select()
      .from(alertNotifications)
      .where(eq(alertNotifications.channelId, hook.channel?.id as string));
    expect(left).toMatchObject({ status: "pending", attempts: 1 });

    webhook.mode = "ok";
    server = await startServerProcess(env);
    server.rememberSecret(...secrets);
    await until("the webhook from the new process", () => webhook.received.length === 2);
    expect(webhook.received.map((r) => r.signatureValid)).toEqual([true, true]);
    expect(webhook.uniqueKeys()).toHaveLength(1);
    expect(webhook.received[1]?.body).toMatchObject({
      status: "firing",
      server: { name: "db-1" },
      alerts: [{ labels: { mount: "/" }, value: 94 }],
    });

    // The new process took the evaluation over: freeing the disk resolves the alert, once per channel.
    await sample(40);
    await until("the resolved e-mail", () => smtp.mails.length === 2);
    await until("the resolved webhook", () => webhook.received.length === 3);
    expect(smtp.mails[1]?.subject).toBe("[RESOLVED] disk / on db-1 is 40% full (warning at 80%)");
    expect(webhook.received[2]?.body.status).toBe("resolved");
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(smtp.mails).toHaveLength(2);
    expect(webhook.received).toHaveLength(3);
    // Threshold crossed → e-mail: `for` (2 s) plus at most an evaluation cycle and a poll.
    expect(mailLatencyMs).toBeLessThan(2_000 + 1_000 + 2_500);
  }, 120_000);
});
