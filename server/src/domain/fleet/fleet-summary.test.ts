import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { servers } from "../../platform/db/schema/servers.js";
import { parseSelector } from "../auth/selector.js";
import { getFleetSummary } from "./fleet-summary.js";

describe.each(databaseKinds)("fleet summary (%s)", (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    const statuses = ["active", "active", "offline", "failed"] as const;
    await database.db.insert(servers).values(
      Array.from({ length: 40 }, (_, i) => ({
        name: `srv-${String(i).padStart(2, "0")}`,
        status: statuses[i % 4],
        statusMessage: i % 4 === 3 ? `broke ${i}` : null,
        lastSeenAt: new Date(Date.UTC(2026, 11, 1, 0, i)),
        tags: { env: i % 2 === 0 ? "prod" : "dev", ...(i < 3 ? { role: "db" } : {}) },
        cpuPercent: i === 5 ? null : i,
        memoryPercent: 100 - i,
        diskPercent: i % 10,
      })),
    );
  }, 120_000);
  afterAll(async () => {
    await database?.close();
  });

  it("counts per status and tag, ranks by usage from the indexes, lists recent failures", async () => {
    const summary = await getFleetSummary(database.db, { all: true }, { top: 3 });
    expect(summary.total).toBe(40);
    expect(summary.statusCounts).toMatchObject({ active: 20, offline: 10, failed: 10, pending: 0 });
    expect(summary.tags).toEqual([
      { key: "env", value: "dev", count: 20 },
      { key: "env", value: "prod", count: 20 },
      { key: "role", value: "db", count: 3 },
    ]);
    expect(summary.busiestCpu.map((s) => [s.name, s.percent])).toEqual([
      ["srv-39", 39],
      ["srv-38", 38],
      ["srv-37", 37],
    ]);
    expect(summary.busiestMemory.map((s) => s.name)).toEqual(["srv-00", "srv-01", "srv-02"]);
    expect(summary.busiestDisk.map((s) => s.percent)).toEqual([9, 9, 9]);
    expect(summary.failed.map((s) => [s.name, s.statusMessage])).toEqual([
      ["srv-39", "broke 39"],
      ["srv-35", "broke 35"],
      ["srv-31", "broke 31"],
    ]);
  });

  it("keeps to the caller's scope and refuses a bad ranking length", async () => {
    const scoped = await getFleetSummary(
      database.db,
      { all: false, selectors: [parseSelector("env=prod")] },
      {},
    );
    expect(scoped.total).toBe(20);
    expect(scoped.tags.find((tag) => tag.value === "dev")).toBeUndefined();
    expect(scoped.busiestCpu.every((s) => Number(s.name.slice(4)) % 2 === 0)).toBe(true);
    expect(scoped.busiestCpu).toHaveLength(5);
    await expect(getFleetSummary(database.db, { all: true }, { top: 21 })).rejects.toMatchObject({
      code: "invalid_argument",
    });
  });
});
