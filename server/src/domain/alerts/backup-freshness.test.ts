import { and, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AlertFixture, createAlertFixture, settings } from "../../../test/support/alert-fixture.js";
import { databaseKinds } from "../../../test/support/test-databases.js";
import { alerts } from "../../platform/db/schema/alerts.js";
import { backupSchedules } from "../../platform/db/schema/backup-schedules.js";
import { backups, instances } from "../../platform/db/schema/instances.js";
import { BACKUP_FRESHNESS_RULE } from "./backup-freshness-signals.js";
import { evaluateAlerts } from "./evaluate-alerts.js";

const HOUR = 3_600_000;

/** Backup freshness: a scheduled instance whose last successful backup is older than its schedule allows. */
describe.each(databaseKinds)("backup freshness on %s", (kind) => {
  let t: AlertFixture;
  beforeEach(async () => {
    t = await createAlertFixture(kind);
  });
  afterEach(async () => {
    await t?.close();
  });

  it("fires when the schedule's period plus the grace passes without a backup, and resolves on the next one", async () => {
    const serverId = await t.addServer("odoo-1");
    const [instance] = await t.db
      .insert(instances)
      .values({
        serverId,
        name: "shop",
        odooImage: "o",
        postgresImage: "p",
        mailpitImage: "m",
        basePort: 10_000,
      })
      .returning();
    const instanceId = instance?.id as string;
    // Every 6 hours, set up now; grace 1 h (the default): it may be 7 h without a backup.
    await t.db.insert(backupSchedules).values({
      instanceId,
      everyHours: 6,
      nextRunAt: new Date(t.clock.now().getTime() + 6 * HOUR),
      createdAt: t.clock.now(),
    });
    const backup = async (state: "completed" | "failed") => {
      await t.db.insert(backups).values({
        instanceId,
        instanceName: "shop",
        serverId,
        kind: "automatic",
        state,
        storageKey: `k-${t.clock.now().getTime()}`,
        completedAt: t.clock.now(),
      });
    };
    const evaluate = async () => {
      await t.sample(serverId, { "/": 40 });
      await evaluateAlerts(t.db, { now: t.clock.now(), settings, maxSampleAgeMs: 120_000 });
      const [row] = await t.db
        .select()
        .from(alerts)
        .where(and(eq(alerts.serverId, serverId), eq(alerts.ruleKey, BACKUP_FRESHNESS_RULE)));
      return row;
    };

    t.clock.advance(5 * HOUR);
    await backup("completed");
    t.clock.advance(6.5 * HOUR);
    expect(await evaluate()).toBeUndefined();
    // The next scheduled run failed: 7 h 1 min after the last success, the alert fires.
    await backup("failed");
    t.clock.advance(0.5 * HOUR + 60_000);
    const fired = await evaluate();
    expect(fired).toMatchObject({
      state: "firing",
      severity: "warning",
      labels: { instance: "shop" },
      threshold: 7,
    });
    expect(fired?.summary).toContain("the last successful backup of shop on odoo-1 is 7 h old");
    // Two periods plus the grace: critical.
    t.clock.advance(6 * HOUR);
    expect(await evaluate()).toMatchObject({ state: "firing", severity: "critical" });
    await backup("completed");
    expect(await evaluate()).toMatchObject({ state: "resolved" });
  });
});
