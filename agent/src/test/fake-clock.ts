import type { Clock } from "../connection/clock.js";

/** A clock whose time moves only when the test says so. */
export interface FakeClock extends Clock {
  /** Moves time forward, firing due timers in order (and timers they schedule). */
  advance(ms: number): Promise<void>;
  /** advance() in steps, so work that real I/O delays still sees time pass gradually. */
  advanceInSteps(ms: number, stepMs?: number): Promise<void>;
  readonly pending: number;
}

export function createFakeClock(startMs = 1_700_000_000_000): FakeClock {
  let now = startMs;
  let nextId = 1;
  const timers = new Map<number, { at: number; callback: () => void }>();
  // Lets promise chains and file I/O that a fired timer started finish before the next timer.
  const immediates = async () => {
    for (let round = 0; round < 10; round++) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  const flush = async () => {
    await immediates();
    await new Promise<void>((resolve) => setTimeout(resolve, 2));
    await immediates();
  };
  return {
    now: () => now,
    setTimeout(callback, delayMs) {
      const id = nextId++;
      timers.set(id, { at: now + Math.max(0, delayMs), callback });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    async advance(ms) {
      const target = now + ms;
      for (;;) {
        await flush();
        const due = [...timers.entries()]
          .filter(([, timer]) => timer.at <= target)
          .sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
        if (!due) break;
        timers.delete(due[0]);
        now = Math.max(now, due[1].at);
        due[1].callback();
      }
      now = target;
      await flush();
    },
    async advanceInSteps(ms, stepMs = 50) {
      for (let done = 0; done < ms; done += stepMs) await this.advance(Math.min(stepMs, ms - done));
    },
    get pending() {
      return timers.size;
    },
  };
}
