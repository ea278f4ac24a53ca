import { describe, expect, it } from "vitest";
import { formatRelativeTime } from "./relative-time";

const now = new Date("2026-01-10T12:00:00Z");
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);

describe("formatRelativeTime", () => {
  it.each([
    [10, "just now"],
    [-10, "just now"],
    [50, "1 minute ago"],
    [5 * 60, "5 minutes ago"],
    [2 * 3_600 + 59 * 60, "3 hours ago"],
    [86_400, "yesterday"],
    [3 * 86_400, "3 days ago"],
    [15 * 86_400, "2 weeks ago"],
    [400 * 86_400, "last year"],
    [-2 * 3_600, "in 2 hours"],
  ])("formats %is ago as %s", (seconds, expected) => {
    expect(formatRelativeTime(ago(seconds), now)).toBe(expected);
  });
});
