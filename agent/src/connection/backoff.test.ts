import { describe, expect, it } from "vitest";
import { createBackoff, seededRandom } from "./backoff.js";

describe("backoff with full jitter", () => {
  it("keeps every delay within [0, min(cap, base·2^n)) and spreads them", () => {
    const backoff = createBackoff({ baseMs: 1000, capMs: 60_000, random: seededRandom(42) });
    const delays = Array.from({ length: 12 }, () => backoff.next());
    delays.forEach((delay, attempt) => {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(60_000, 1000 * 2 ** attempt));
    });
    // Jitter: not all late delays sit at the same value.
    expect(new Set(delays.slice(6)).size).toBeGreaterThan(3);
    expect(backoff.failures).toBe(12);
  });

  it("reaches the cap and never exceeds it", () => {
    const backoff = createBackoff({ baseMs: 1000, capMs: 60_000, random: () => 0.999_999 });
    const delays = Array.from({ length: 40 }, () => backoff.next());
    expect(delays.slice(0, 4)).toEqual([999, 1999, 3999, 7999]);
    expect(delays.slice(6).every((delay) => delay === 59_999)).toBe(true);
  });

  it("starts again from the base after reset", () => {
    const backoff = createBackoff({ baseMs: 1000, capMs: 60_000, random: () => 0.5 });
    for (let index = 0; index < 10; index++) backoff.next();
    expect(backoff.next()).toBe(30_000);
    backoff.reset();
    expect(backoff.failures).toBe(0);
    expect(backoff.next()).toBe(500);
  });

  it("waits at the cap, jittered in its upper half, for refusals", () => {
    const low = createBackoff({ capMs: 60_000, random: () => 0 });
    const high = createBackoff({ capMs: 60_000, random: () => 0.999_999 });
    expect(low.atCap()).toBe(30_000);
    expect(high.atCap()).toBe(59_999);
  });

  it("is deterministic for a seed", () => {
    const a = createBackoff({ random: seededRandom(7) });
    const b = createBackoff({ random: seededRandom(7) });
    expect(Array.from({ length: 8 }, () => a.next())).toEqual(Array.from({ length: 8 }, () => b.next()));
  });
});
