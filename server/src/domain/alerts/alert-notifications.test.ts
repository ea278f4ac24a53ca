import { asc, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AlertFixture, createAlertFixture } from "../../../test/support/alert-fixture.js";
import { databaseKinds } from "../../../test/support/test-databases.js";
import { alerts } from "../../platform/db/schema/alerts.js";

describe.each(databaseKinds)("alert notifications on %s", (kind) => {
  let t: AlertFixture;
  beforeEach(async () => {
    t = await createAlertFixture(kind);
  });
  afterEach(async () => {
    await t?.close();
  });

  const states = async () =>
    (await t.db.select().from(alerts).orderBy(asc(alerts.ruleKey))).map((a) => `${a.ruleName}:${a.state}`);

  it("fires a disk alert after `for` with one e-mail and one webhook, then sends its resolution", async () => {
    const id = await t.addServer("db-1");
    const worker = t.worker();
    await t.sample(id, { "/": 50, "/var/lib/docker": 40 });
    expect(await t.evaluate()).toMatchObject({ events: 0, notifications: 0 });

    await t.sample(id, { "/": 93.4, "/var/lib/docker": 40 });
    await t.evaluate();
    expect(await states()).toEqual(["Disk used:pending"]);
    t.clock.advance(30_000);
    await t.sample(id, { "/": 93.4, "/var/lib/docker": 40 });
    expect(await t.evaluate()).toMatchObject({ events: 0 });
    t.clock.advance(30_000);
    await t.sample(id, { "/": 93.4, "/var/lib/docker": 40 });
    expect(await t.evaluate()).toMatchObject({ events: 1, notifications: 2 });
    expect(await states()).toEqual(["Disk used:firing"]);

    expect(await worker.runDue()).toBe(2);
    const [mail] = await t.smtp.waitFor(1);
    expect(mail?.subject).toBe("[FIRING] disk / on db-1 is 93.4% full (critical at 90%)");
    expect(mail?.text).toContain("Server: db-1");
    expect(mail?.text).toContain("mount: /");
    expect(mail?.text).toContain("value: 93.4 (threshold 90)");
    expect(mail?.text).toContain("What to do: Free space on / of db-1");
    expect(t.webhook.received).toHaveLength(1);
    const hook = t.webhook.received[0];
    expect(hook?.signatureValid).toBe(true);
    expect(hook?.headers["x-ocore-event"]).toBe("firing");
    expect(hook?.body).toMatchObject({
      version: 1,
      status: "firing",
      server: { id, name: "db-1" },
      alerts: [
        { rule: "Disk used", severity: "critical", labels: { mount: "/" }, value: 93.4, threshold: 90 },
      ],
    });
    expect(hook?.headers["x-ocore-idempotency-key"]).toBe(hook?.body.idempotencyKey);

    // Between the recovery threshold (75 %) and the warn threshold: still firing, nothing sent.
    t.clock.advance(10_000);
    await t.sample(id, { "/": 78, "/var/lib/docker": 40 });
    expect(await t.evaluate()).toMatchObject({ events: 0 });
    expect(await states()).toEqual(["Disk used:firing"]);

    t.clock.advance(10_000);
    await t.sample(id, { "/": 60, "/var/lib/docker": 40 });
    expect(await t.evaluate()).toMatchObject({ events: 1, notifications: 2 });
    expect(await worker.runDue()).toBe(2);
    const mails = await t.smtp.waitFor(2);
    expect(mails[1]?.subject).toBe("[RESOLVED] disk / on db-1 is 60% full (warning at 80%)");
    expect(t.webhook.received.map((r) => r.body.status)).toEqual(["firing", "resolved"]);
    expect(t.webhook.received[1]?.signatureValid).toBe(true);
    expect(await states()).toEqual(["Disk used:resolved"]);
  });

  it("sends one grouped 'host lost' message and nothing for the alerts that depend on the host", async () => {
    const id = await t.addServer("web-1");
    const worker = t.worker();
    await t.sample(id, { "/": 95 });
    await t.evaluate();
    t.clock.advance(60_000);
    await t.sample(id, { "/": 95 });
    await t.evaluate();
    expect(await worker.runDue()).toBe(2);
    // A second mount crosses its threshold just as the host is lost: it must not notify either.
    t.clock.advance(10_000);
    await t.sample(id, { "/": 95, "/srv": 85 });
    await t.evaluate();
    expect((await states()).sort()).toEqual(["Disk used:firing", "Disk used:pending"]);

    await t.setStatus(id, "offline");
    t.clock.advance(10_000);
    await t.evaluate();
    t.clock.advance(30_000);
    expect(await t.evaluate()).toMatchObject({ events: 1, notifications: 2 });
    const held = await t.db.select().from(alerts).where(eq(alerts.ruleKey, "builtin:disk_used"));
    expect(held.map((a) => a.state)).toEqual(["unreachable", "unreachable"]);
    // Staying offline sends nothing more.
    t.clock.advance(60_000);
    expect(await t.evaluate()).toMatchObject({ events: 0, notifications: 0 });

    expect(await worker.runDue()).toBe(2);
    const mails = await t.smtp.waitFor(2);
    expect(mails[1]?.subject).toBe("[FIRING] host web-1 lost");
    expect(mails[1]?.text).toContain("systemctl status ocore-agent");
    expect(t.webhook.received).toHaveLength(2);
    expect(t.webhook.received[1]?.body).toMatchObject({
      status: "firing",
      alerts: [{ rule: "Agent offline" }],
    });

    // Back with the disk freed: one resolved message for the host and the disk alert it had sent.
    await t.setStatus(id, "active");
    t.clock.advance(10_000);
    await t.sample(id, { "/": 40, "/srv": 40 });
    expect(await t.evaluate()).toMatchObject({ events: 2, notifications: 2 });
    expect(await worker.runDue()).toBe(2);
    const resolved = t.webhook.received[2]?.body as { status: string; alerts: Array<{ rule: string }> };
    expect(resolved.status).toBe("resolved");
    expect(resolved.alerts.map((a) => a.rule).sort()).toEqual(["Agent offline", "Disk used"]);
    expect((await t.smtp.waitFor(3))[2]?.subject).toBe("[RESOLVED] host web-1 is back");
    // The /srv alert was never told: it went back to inactive without a message.
    expect(await t.db.select().from(alerts).where(eq(alerts.state, "pending"))).toEqual([]);
  });
});
