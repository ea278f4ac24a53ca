import { describe, expect, it } from "vitest";
import { nextRunAfter } from "./backup-schedule.js";

const at = (iso: string) => new Date(iso);

describe("nextRunAfter", () => {
  const daily = (hour: number, minute: number) => ({
    kind: "daily" as const,
    minuteOfDay: hour * 60 + minute,
  });

  it("runs a daily schedule at its time today, or tomorrow once that passed (UTC)", () => {
    expect(nextRunAfter(daily(2, 30), at("2026-12-04T01:00:00Z"))).toEqual(at("2026-12-04T02:30:00Z"));
    expect(nextRunAfter(daily(2, 30), at("2026-12-04T02:30:00Z"))).toEqual(at("2026-12-05T02:30:00Z"));
    expect(nextRunAfter(daily(0, 0), at("2026-12-31T23:59:59Z"))).toEqual(at("2027-01-01T00:00:00Z"));
  });

  it("steps every N hours from the slot, so a long run does not shift the next ones", () => {
    const every6 = { kind: "hourly" as const, everyHours: 6 };
    const slot = at("2026-12-04T00:00:00Z");
    expect(nextRunAfter(every6, at("2026-12-04T00:40:00Z"), slot)).toEqual(at("2026-12-04T06:00:00Z"));
    // Down for a day and a half: one run now, then the next slot on the same grid.
    expect(nextRunAfter(every6, at("2026-12-05T13:10:00Z"), slot)).toEqual(at("2026-12-05T18:00:00Z"));
    // Set now: the first run N hours later.
    const now = at("2026-12-04T10:17:00Z");
    expect(nextRunAfter(every6, now)).toEqual(at("2026-12-04T16:17:00Z"));
  });

  it("keeps a slot still in the future (the schedule changed during a run)", () => {
    const later = at("2026-12-09T05:00:00Z");
    expect(nextRunAfter(daily(3, 0), at("2026-12-04T03:05:00Z"), later)).toEqual(later);
  });
});
