import { asc, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AlertFixture, createAlertFixture } from "../../../../test/support/alert-fixture.js";
import { databaseKinds } from "../../../../test/support/test-databases.js";
import { alertDeliveries, alertNotifications } from "../../../platform/db/schema/alerts.js";
import { claimDueNotifications } from "./outbox-claims.js";

describe.each(databaseKinds)("the alert outbox on %s", (kind) => {
  let t: AlertFixture;
  beforeEach(async () => {
    t = await createAlertFixture(kind);
  });
  afterEach(async () => {
    await t?.close();
  });

  /** A disk alert that fires on a new server: one outbox row per channel. */
  async function fireDiskAlert(name: string): Promise<void> {
    const id = await t.addServer(name);
    await t.sample(id, { "/": 91 });
    await t.evaluate();
    t.clock.advance(60_000);
    await t.sample(id, { "/": 91 });
    expect(await t.evaluate()).toMatchObject({ events: 1, notifications: 2 });
  }

  const log = async (channelId: string) =>
    (
      await t.db
        .select()
        .from(alertDeliveries)
        .where(eq(alertDeliveries.channelId, channelId))
        .orderBy(asc(alertDeliveries.id))
    ).map((entry) => `${entry.attempt}:${entry.outcome}:${entry.error ?? ""}`);

  const webhookRows = () =>
    t.db.select().from(alertNotifications).where(eq(alertNotifications.channelId, t.webhookChannelId));

  it("retries a webhook that answers 500 or never answers, with backoff, without holding up e-mail", async () => {
    const worker = t.worker({ sendTimeoutMs: 1_500 });
    await fireDiskAlert("db-1");
    t.webhook.mode = "fail500";
    expect(await worker.runDue()).toBe(2);
    expect(t.smtp.mails).toHaveLength(1);
    const [first] = await webhookRows();
    expect(first).toMatchObject({ status: "pending", attempts: 1 });
    expect(first?.nextAttemptAt.getTime()).toBe(t.clock.now().getTime() + 5_000);
    expect(await log(t.webhookChannelId)).toEqual([
      `1:failed:${t.webhook.url} answered 500: receiver is down`,
    ]);
    expect(await worker.runDue()).toBe(0); // not due yet

    // The receiver now holds connections open; meanwhile a second server's alert goes out by mail.
    t.clock.advance(5_000);
    t.webhook.mode = "hang";
    await fireDiskAlert("db-2");
    let runEnded = false;
    const run = worker.runDue().then((count) => {
      runEnded = true;
      return count;
    });
    await t.smtp.waitFor(2);
    expect(runEnded).toBe(false); // the mail did not wait for the hanging webhook
    expect(await run).toBe(3);
    const hung = (await webhookRows()).find((row) => row.id === first?.id);
    expect(hung).toMatchObject({ status: "pending", attempts: 2 });
    expect(hung?.nextAttemptAt.getTime()).toBe(t.clock.now().getTime() + 10_000);
    expect((await log(t.webhookChannelId)).filter((e) => e.startsWith("2:failed:"))).toEqual([
      `2:failed:no answer from ${t.webhook.url} within 1500 ms`,
    ]);

    t.clock.advance(10_000);
    t.webhook.mode = "ok";
    t.webhook.releaseHeld();
    expect(await worker.runDue()).toBe(2);
    expect((await webhookRows()).map((row) => row.status)).toEqual(["delivered", "delivered"]);
    expect((await log(t.webhookChannelId)).filter((e) => e.includes(":delivered:"))).toHaveLength(2);
    expect(t.webhook.received.every((r) => r.signatureValid)).toBe(true);
    expect(t.webhook.uniqueKeys()).toHaveLength(2);
    expect(await log(t.emailChannelId)).toEqual(["1:delivered:", "1:delivered:"]);
  });

  it("a claim left by a process that died is taken over after its lease and sent once", async () => {
    await fireDiskAlert("db-1");
    const orphaned = await claimDueNotifications(t.db, {
      owner: "a-process-that-died",
      leaseMs: 60_000,
      now: t.clock.now(),
      limit: 10,
    });
    expect(orphaned).toHaveLength(2);
    const worker = t.worker();
    expect(await worker.runDue()).toBe(0);
    t.clock.advance(60_001);
    expect(await worker.runDue()).toBe(2);
    expect(await worker.runDue()).toBe(0);
    expect(t.webhook.received).toHaveLength(1);
    expect(t.smtp.mails).toHaveLength(1);
    expect((await webhookRows())[0]).toMatchObject({ status: "delivered", attempts: 2 });
  });

  it("a send cut off before it was recorded is repeated with the same idempotency key and recorded once", async () => {
    await fireDiskAlert("db-1");
    t.webhook.mode = "hang";
    const first = t.worker({ sendTimeoutMs: 20_000 });
    const firstRun = first.runDue();
    while (t.webhook.received.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    // (The e-mail of the same claim goes through meanwhile; only the webhook is cut off.)
    const mailRow = () =>
      t.db.select().from(alertNotifications).where(eq(alertNotifications.channelId, t.emailChannelId));
    while ((await mailRow())[0]?.status !== "delivered")
      await new Promise((resolve) => setTimeout(resolve, 20));
    // The first worker is as good as dead: its lease runs out while its send is unanswered.
    t.clock.advance(60_001);
    t.webhook.mode = "ok";
    const second = t.worker();
    expect(await second.runDue()).toBe(1);
    t.webhook.releaseHeld();
    await firstRun;

    expect(t.webhook.received).toHaveLength(2);
    expect(t.webhook.uniqueKeys()).toHaveLength(1);
    expect(t.webhook.received[0]?.body).toEqual(t.webhook.received[1]?.body);
    const [row] = await webhookRows();
    expect(row).toMatchObject({ status: "delivered", attempts: 2 });
    expect((await log(t.webhookChannelId)).filter((e) => e.includes(":delivered:"))).toEqual([
      "2:delivered:",
    ]);
  });
});
