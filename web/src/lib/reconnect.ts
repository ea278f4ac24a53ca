/** The longest a live feed waits before reconnecting after `failures` failed attempts in a row: 1 s doubling to 30 s. */
export function reconnectCeilingMs(failures: number): number {
  return Math.min(30_000, 1_000 * 2 ** Math.min(30, Math.max(0, failures - 1)));
}

/**
 * How long to wait before reconnecting after `failures` failed attempts in a row: a uniformly random
 * time in [0, ceiling), the agent's full jitter (agent/src/connection/backoff.ts). Without it every
 * console open when the server restarts would come back in the same second, again and again.
 */
export function reconnectDelayMs(failures: number, random: () => number = Math.random): number {
  return Math.floor(random() * reconnectCeilingMs(failures));
}

/** Waits `ms`, or less when `signal` aborts first (it never rejects: the caller checks the signal). */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
