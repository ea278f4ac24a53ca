import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import pino from "pino";
import { defaultBuiltinRuleSettings } from "../../src/domain/alerts/alert-types.js";
import { createChannelKeyring } from "../../src/domain/alerts/channels/channel-secrets.js";
import { createChannel } from "../../src/domain/alerts/channels/channel-store.js";
import { evaluateAlerts } from "../../src/domain/alerts/evaluate-alerts.js";
import {
  immediateNotificationPolicy,
  type NotificationPolicy,
} from "../../src/domain/alerts/grouping/notification-policy.js";
import { createOutboxWorker, type OutboxTiming } from "../../src/domain/alerts/outbox/outbox-worker.js";
import { systemContext } from "../../src/domain/audit/audit-context.js";
import type { DatabaseKind, Db } from "../../src/platform/db/database.js";
import { metricSamples } from "../../src/platform/db/schema/metrics.js";
import { servers } from "../../src/platform/db/schema/servers.js";
import { createMasterKeyring, type MasterKeyring } from "../../src/platform/pki/master-key.js";
import { type SmtpSink, startSmtpSink } from "./smtp-sink.js";
import { createTestClock, type TestClock } from "./test-clock.js";
import { createTestDatabase, type TestDatabase } from "./test-databases.js";
import { startWebhookReceiver, type WebhookReceiver } from "./webhook-receiver.js";

export const WEBHOOK_SECRET = "s3cret-signing-key-0123456789";
export const SMTP_USER = "alerts";
export const SMTP_PASSWORD = "mail-pa55word";

/** Built-in thresholds of these tests: warn 80 %, critical 90 %, resolve below 75 %, `for` 60 s. */
export const settings = { ...defaultBuiltinRuleSettings, diskForSeconds: 60, agentOfflineForSeconds: 30 };

export interface AlertFixture {
  readonly database: TestDatabase;
  readonly db: Db;
  readonly clock: TestClock;
  readonly keyring: MasterKeyring;
  readonly smtp: SmtpSink;
  readonly webhook: WebhookReceiver;
  readonly emailChannelId: string;
  readonly webhookChannelId: string;
  addServer(name: string, tags?: Record<string, string>): Promise<string>;
  /** Stores a sample at the clock's time with these mounts' used percent. */
  sample(serverId: string, mounts: Record<string, number>): Promise<void>;
  setStatus(serverId: string, status: "active" | "offline"): Promise<void>;
  /** When grouped notifications go out (default: every change at once); tests may change it. */
  policy: NotificationPolicy;
  evaluate(): ReturnType<typeof evaluateAlerts>;
  worker(timing?: Partial<OutboxTiming>): ReturnType<typeof createOutboxWorker>;
  close(): Promise<void>;
}

/** A database with an e-mail channel (real SMTP sink) and a webhook channel (real HTTP receiver). */
export async function createAlertFixture(kind: DatabaseKind): Promise<AlertFixture> {
  const database = await createTestDatabase(kind);
  const db = database.db;
  const clock = createTestClock(new Date("2026-12-07T12:00:00Z"));
  const keyring = createChannelKeyring([createMasterKeyring(randomBytes(32).toString("base64")).current]);
  const smtp = await startSmtpSink({ username: SMTP_USER, password: SMTP_PASSWORD });
  const webhook = await startWebhookReceiver(WEBHOOK_SECRET);
  const email = await createChannel(
    db,
    systemContext(),
    keyring,
    {
      name: "ops mail",
      email: {
        smtpHost: "127.0.0.1",
        smtpPort: smtp.port,
        security: "none",
        username: SMTP_USER,
        password: SMTP_PASSWORD,
        from: "ocore@example.com",
        to: ["ops@example.com"],
      },
    },
    clock.now(),
  );
  const hook = await createChannel(
    db,
    systemContext(),
    keyring,
    { name: "ops hook", webhook: { url: webhook.url, secret: WEBHOOK_SECRET } },
    clock.now(),
  );
  let sequence = 0;
  const workers: Array<{ stop(): Promise<void> }> = [];
  const fixture: AlertFixture = {
    database,
    db,
    clock,
    keyring,
    smtp,
    webhook,
    emailChannelId: email.id,
    webhookChannelId: hook.id,
    async addServer(name, tags = {}) {
      const [row] = await db
        .insert(servers)
        .values({ name, host: `${name}.test`, status: "active", tags, lastSeenAt: clock.now() })
        .returning();
      return (row as { id: string }).id;
    },
    async sample(serverId, mounts) {
      sequence += 1;
      const total = 100 * 2 ** 30;
      const fs = Object.entries(mounts).map(([mount, percent]) => {
        const used = Math.round((total * percent) / 100);
        return [mount, "/dev/vda1", "ext4", total, used, total - used] as const;
      });
      await db.insert(metricSamples).values({
        serverId,
        sequence,
        collectedAt: clock.now(),
        receivedAt: clock.now(),
        cpuPercent: 5,
        load1: 0.5,
        load5: 0.4,
        load15: 0.3,
        cpuCores: 2,
        memoryTotal: 4 * 2 ** 30,
        memoryUsed: 2 ** 30,
        memoryAvailable: 3 * 2 ** 30,
        memoryActive: 2 ** 30,
        swapTotal: 0,
        swapUsed: 0,
        diskUsedPercent: Math.max(0, ...Object.values(mounts)),
        diskReadBps: 0,
        diskWriteBps: 0,
        netRxBps: 0,
        netTxBps: 0,
        tcpConnections: 12,
        containersRunning: 3,
        containersPaused: 0,
        containersStopped: 0,
        containersRestarting: 0,
        detail: { cores: [5, 5], fs, disks: [], nics: [], containers: [] },
      });
      await db.update(servers).set({ lastSeenAt: clock.now() }).where(eq(servers.id, serverId));
    },
    async setStatus(serverId, status) {
      await db.update(servers).set({ status }).where(eq(servers.id, serverId));
    },
    policy: immediateNotificationPolicy,
    evaluate() {
      return evaluateAlerts(db, {
        now: clock.now(),
        settings,
        maxSampleAgeMs: 120_000,
        notify: fixture.policy,
      });
    },
    worker(timing = {}) {
      const worker = createOutboxWorker({
        db,
        logger: pino({ level: "silent" }),
        now: clock.now,
        keyring,
        timing: {
          sendTimeoutMs: 2_000,
          backoff: { baseMs: 5_000, maxMs: 60_000, maxAttempts: 5 },
          ...timing,
        },
      });
      workers.push(worker);
      return worker;
    },
    async close() {
      for (const worker of workers) await worker.stop();
      webhook.releaseHeld();
      await webhook.close();
      await smtp.close();
      await database.close();
    },
  };
  return fixture;
}
