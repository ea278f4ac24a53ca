import { asc } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AlertFixture, createAlertFixture } from "../../../test/support/alert-fixture.js";
import { databaseKinds } from "../../../test/support/test-databases.js";
import { alerts } from "../../platform/db/schema/alerts.js";

/** A cycle's changes over many servers at once: the set-based inserts, updates and deletes. */
describe.each(databaseKinds)("an evaluation cycle over a fleet on %s", (kind) => {
  let t: AlertFixture;
  beforeEach(async () => {
    t = await createAlertFixture(kind);
  });
  afterEach(async () => {
    await t?.close();
  });

  const rows = () => t.db.select().from(alerts).orderBy(asc(alerts.serverId), asc(alerts.fingerprint));

  it("starts, fires, keeps, drops and resolves alerts of many servers in one cycle each", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 24; i += 1) ids.push(await t.addServer(`web-${i}`));
    const hot = ids.slice(0, 8);
    const warm = ids.slice(8, 12);
    const sampleAll = async (hotPercent: number, warmPercent: number) => {
      for (const id of ids) {
        const root = hot.includes(id) ? hotPercent : warm.includes(id) ? warmPercent : 40;
        await t.sample(id, { "/": root, "/srv": 30 });
      }
    };

    await sampleAll(95, 85);
    expect(await t.evaluate()).toMatchObject({ servers: 24, events: 0 });
    const pending = await rows();
    expect(pending).toHaveLength(12);
    expect(pending.every((row) => row.state === "pending" && row.id.length === 36)).toBe(true);

    // The warm servers drop below the warn threshold before `for`: their pending rows go.
    t.clock.advance(60_000);
    await sampleAll(95, 50);
    expect(await t.evaluate()).toMatchObject({ events: 8, notifications: 16 });
    const firing = await rows();
    expect(firing.map((row) => row.state)).toEqual(Array(8).fill("firing"));
    expect(new Set(firing.map((row) => row.serverId))).toEqual(new Set(hot));
    expect(firing.every((row) => row.episode === 1 && row.summary.includes("95% full"))).toBe(true);

    // Nothing changed: nothing is written, so updated_at still says when each alert last changed.
    t.clock.advance(10_000);
    await sampleAll(95, 50);
    expect(await t.evaluate()).toMatchObject({ events: 0, notifications: 0 });
    expect(await rows()).toEqual(firing);

    // A value change is written (one statement for all of them) without an event.
    t.clock.advance(10_000);
    await sampleAll(96.5, 50);
    expect(await t.evaluate()).toMatchObject({ events: 0 });
    const moved = await rows();
    expect(
      moved.every((row) => row.value === 96.5 && row.updatedAt.getTime() === t.clock.now().getTime()),
    ).toBe(true);

    t.clock.advance(10_000);
    await sampleAll(40, 50);
    expect(await t.evaluate()).toMatchObject({ events: 8, notifications: 16 });
    expect((await rows()).map((row) => row.state)).toEqual(Array(8).fill("resolved"));
  });
});
