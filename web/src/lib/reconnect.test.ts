import { describe, expect, it } from "vitest";
import { reconnectCeilingMs, reconnectDelayMs } from "./reconnect";

describe("the live feeds' reconnect backoff", () => {
  it("waits a random time below the ceiling (full jitter)", () => {
    for (const failures of [1, 2, 3, 6, 10]) {
      const ceiling = reconnectCeilingMs(failures);
      expect(reconnectDelayMs(failures, () => 0)).toBe(0);
      expect(reconnectDelayMs(failures, () => 0.5)).toBe(ceiling / 2);
      expect(reconnectDelayMs(failures, () => 0.999_999)).toBe(ceiling - 1);
    }
  });

  it("spreads a crowd of consoles over the whole window instead of one instant", () => {
    const delays = Array.from({ length: 1_000 }, () => reconnectDelayMs(4));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(8_000);
    // 1,000 uniform draws over 8 s: each of the 8 one-second slots holds some, none most.
    const perSecond = Array.from(
      { length: 8 },
      (_, second) => delays.filter((delay) => Math.floor(delay / 1_000) === second).length,
    );
    expect(Math.min(...perSecond)).toBeGreaterThan(50);
    expect(Math.max(...perSecond)).toBeLessThan(250);
  });

  it("never waits longer than 30 seconds, however many failures", () => {
    expect(reconnectDelayMs(10_000, () => 0.999_999)).toBe(29_999);
  });
});
