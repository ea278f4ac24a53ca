import { describe, expect, it } from "vitest";
import { describeOutcome, formatBytes, formatElapsed, searchable } from "./ssh-sessions";

describe("session helpers", () => {
  it("formats sizes and durations for people", () => {
    expect(formatBytes(0n)).toBe("0 B");
    expect(formatBytes(1536n)).toBe("1.5 KB");
    expect(formatBytes(300 * 1024 * 1024)).toBe("300 MB");
    expect(formatElapsed(59_999)).toBe("59 s");
    expect(formatElapsed(3_725_000n)).toBe("1 h 2 min");
    expect(formatElapsed(90_000_000)).toBe("1 d 1 h");
  });

  it("says how a session ended", () => {
    const base = { live: false, endReason: "exit", recordingTruncated: false };
    expect(describeOutcome({ ...base, live: true })).toBe("live");
    expect(describeOutcome({ ...base, exitStatus: 0 })).toBe("exit 0");
    expect(describeOutcome({ ...base, endReason: "terminated: end_requested" })).toBe("ended by an admin");
    expect(describeOutcome({ ...base, endReason: "recording_limit", recordingTruncated: true })).toBe(
      "recording limit reached",
    );
    expect(describeOutcome({ ...base, endReason: "agent_gone", recordingTruncated: true })).toBe(
      "agent gone · recording truncated",
    );
  });

  it("searches from three characters", () => {
    expect(searchable(" ab ")).toBe(false);
    expect(searchable("abc")).toBe(true);
    expect(searchable("x".repeat(201))).toBe(false);
  });
});
