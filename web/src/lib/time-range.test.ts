import { describe, expect, it } from "vitest";
import { DEFAULT_RANGE, parseTimeRange, rangeWindow, timeRangeSearch } from "./time-range";

const params = (query: string) => new URLSearchParams(query);

describe("time ranges in the URL", () => {
  it("reads presets and falls back to one hour", () => {
    expect(parseTimeRange(params("range=24h")).range).toEqual({ kind: "preset", preset: "24h" });
    expect(parseTimeRange(params("range=2y")).range).toEqual(DEFAULT_RANGE);
    expect(parseTimeRange(params("")).range).toEqual(DEFAULT_RANGE);
  });

  it("reads a custom range and says what is wrong with a broken one", () => {
    const custom = parseTimeRange(params("from=2026-03-01T10:00:00Z&to=2026-03-01T12:00:00Z"));
    expect(custom.range).toEqual({
      kind: "custom",
      from: new Date("2026-03-01T10:00:00Z"),
      to: new Date("2026-03-01T12:00:00Z"),
    });
    expect(parseTimeRange(params("from=2026-03-01T12:00:00Z&to=2026-03-01T10:00:00Z")).problem).toMatch(
      /start before it ends/,
    );
    expect(parseTimeRange(params("from=yesterday")).problem).toMatch(/start and an end/);
    expect(parseTimeRange(params("from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z")).problem).toMatch(
      /31 days/,
    );
  });

  it("writes what it reads", () => {
    const custom = {
      kind: "custom",
      from: new Date("2026-03-01T10:00:00Z"),
      to: new Date("2026-03-02T10:00:00Z"),
    } as const;
    expect(parseTimeRange(params(timeRangeSearch(custom).slice(1))).range).toEqual(custom);
    expect(timeRangeSearch({ kind: "preset", preset: "7d" })).toBe("?range=7d");
    expect(timeRangeSearch(DEFAULT_RANGE)).toBe("");
  });

  it("places presets before now", () => {
    const now = new Date("2026-03-01T10:00:00Z");
    expect(rangeWindow({ kind: "preset", preset: "24h" }, now)).toEqual({
      from: new Date("2026-02-28T10:00:00Z"),
      to: now,
    });
  });
});
