import { describe, expect, it } from "vitest";
import { backupsToKeep, isoWeek } from "./retention.js";

/** One backup a day at 02:00 UTC for `days` days up to 2026-11-22 (newest first ids d0, d1, …). */
function daily(days: number) {
  return Array.from({ length: days }, (_, i) => ({
    id: `d${i}`,
    createdAt: new Date(Date.UTC(2026, 10, 22 - i, 2)),
  }));
}

describe("backup retention", () => {
  it("keeps the newest of each of the last N days", () => {
    const keep = backupsToKeep(daily(10), { daily: 3, weekly: 0, monthly: 0 });
    expect([...keep].sort()).toEqual(["d0", "d1", "d2"]);
  });

  it("keeps only the newest backup of a day when several were taken", () => {
    const backups = [
      { id: "late", createdAt: new Date("2026-11-22T20:00:00Z") },
      { id: "early", createdAt: new Date("2026-11-22T01:00:00Z") },
      { id: "yesterday", createdAt: new Date("2026-11-21T01:00:00Z") },
    ];
    expect([...backupsToKeep(backups, { daily: 2, weekly: 0, monthly: 0 })].sort()).toEqual([
      "late",
      "yesterday",
    ]);
  });

  it("adds the newest of each week and month, a backup kept by any rule staying", () => {
    // 2026-11-22 is a Sunday: d0 ends week 47; d7 ends week 46, d14 week 45; d22 is the last of October.
    const keep = backupsToKeep(daily(90), { daily: 2, weekly: 3, monthly: 3 });
    expect([...keep].sort()).toEqual(["d0", "d1", "d14", "d22", "d53", "d7"].sort());
  });

  it("keeps everything when every count is zero, and nothing is kept twice", () => {
    expect(backupsToKeep(daily(5), { daily: 0, weekly: 0, monthly: 0 }).size).toBe(5);
    expect(backupsToKeep([], { daily: 7, weekly: 4, monthly: 6 }).size).toBe(0);
  });

  it("numbers ISO weeks across the year boundary", () => {
    expect(isoWeek(new Date("2026-11-22T12:00:00Z"))).toBe("2026-W47");
    expect(isoWeek(new Date("2027-01-01T12:00:00Z"))).toBe("2026-W53");
    expect(isoWeek(new Date("2025-12-29T12:00:00Z"))).toBe("2026-W01");
  });
});
