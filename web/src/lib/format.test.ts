import { create } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { DatabaseKind } from "@ocore/proto/gen/ocore/api/v1/system_service_pb.js";
import { describe, expect, it } from "vitest";
import { formatDatabaseKind, formatDuration, formatTimestamp } from "./format";

describe("formatDuration", () => {
  it.each([
    [0n, 0, "0 s"],
    [0n, 999_999, "0 s"],
    [0n, 250_000_000, "250 ms"],
    [1n, 0, "1 s"],
    [59n, 999_000_000, "59 s"],
    [60n, 0, "1 min"],
    [725n, 0, "12 min 5 s"],
    [3_600n, 0, "1 h"],
    [3_661n, 0, "1 h 1 min"],
    [86_400n, 0, "1 d"],
    [3n * 86_400n + 4n * 3_600n + 59n * 60n + 59n, 0, "3 d 4 h"],
    [2n * 86_400n + 59n, 0, "2 d"],
    [400n * 86_400n, 0, "400 d"],
  ])("formats %is %ins as %s", (seconds, nanos, expected) => {
    expect(formatDuration(seconds, nanos)).toBe(expected);
  });

  it("keeps the sign of a negative duration", () => {
    expect(formatDuration(-725n, -5)).toBe("-12 min 5 s");
  });

  it("stays exact beyond Number.MAX_SAFE_INTEGER seconds", () => {
    expect(formatDuration(9_007_199_254_740_993n * 86_400n + 3_600n)).toBe("9007199254740993 d 1 h");
  });
});

describe("formatDatabaseKind", () => {
  it("names each database engine", () => {
    expect(formatDatabaseKind(DatabaseKind.PGLITE)).toBe("Embedded PGlite");
    expect(formatDatabaseKind(DatabaseKind.POSTGRES)).toBe("PostgreSQL");
  });

  it("says Unknown for an unspecified or newer kind", () => {
    expect(formatDatabaseKind(DatabaseKind.UNSPECIFIED)).toBe("Unknown");
    expect(formatDatabaseKind(99 as DatabaseKind)).toBe("Unknown");
  });
});

describe("formatTimestamp", () => {
  it("formats in the given locale and time zone", () => {
    const startedAt = create(TimestampSchema, { seconds: 1_767_225_600n, nanos: 0 }); // 2026-01-01T00:00:00Z
    expect(formatTimestamp(startedAt, "en-GB", "UTC")).toBe("1 Jan 2026, 00:00:00");
    expect(formatTimestamp(startedAt, "en-GB", "Europe/Brussels")).toBe("1 Jan 2026, 01:00:00");
  });
});
