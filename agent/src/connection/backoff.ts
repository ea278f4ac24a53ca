/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 * the n-th retry waits a uniformly random time in [0, min(cap, base·2^n)), so a fleet that lost
 * its server does not come back in lockstep.
 */
export interface Backoff {
  /** The delay before the next attempt; each call counts one more failure. */
  next(): number;
  /** A delay at the cap, for refusals that retrying sooner cannot fix. */
  atCap(): number;
  /** After a stable connection, start again from the base. */
  reset(): void;
  readonly failures: number;
}

export function createBackoff(
  options: { baseMs?: number; capMs?: number; random?: () => number } = {},
): Backoff {
  const baseMs = options.baseMs ?? 1000;
  const capMs = options.capMs ?? 60_000;
  const random = options.random ?? Math.random;
  let failures = 0;
  return {
    next() {
      // 2^failures stops growing long before it could overflow: the cap is reached at ~6.
      const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(failures, 30));
      failures++;
      return Math.floor(random() * ceiling);
    },
    atCap() {
      failures++;
      // Jitter still matters at the cap (a revoked fleet must not retry in step), but never short.
      return Math.floor(capMs / 2 + (random() * capMs) / 2);
    },
    reset() {
      failures = 0;
    },
    get failures() {
      return failures;
    },
  };
}

/** A seeded generator (mulberry32) for deterministic jitter in tests and simulations. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
