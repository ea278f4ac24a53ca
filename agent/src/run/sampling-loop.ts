import type { Sampler } from "../collectors/sampler.js";
import type { Clock } from "../connection/clock.js";
import type { Logger } from "../logging/logger.js";
import type { Spool } from "../spool/spool.js";

export interface SamplingLoop {
  start(): void;
  /** Applies at once: the next sample is due one new interval after the previous one. */
  setIntervalSeconds(seconds: number): void;
  readonly intervalMs: number;
  /** Waits for a sample in progress to reach the spool. */
  stop(): Promise<void>;
}

/**
 * Takes a sample every interval and appends it to the spool, connected or not: the spool is the
 * only buffer, the link sends from it. A failing collector is logged once per distinct error.
 */
export function createSamplingLoop(options: {
  sampler: Sampler;
  spool: Spool;
  clock: Clock;
  logger: Logger;
  intervalMs: number;
  onSample: () => void;
}): SamplingLoop {
  const { clock, logger } = options;
  let intervalMs = options.intervalMs;
  let timer: unknown;
  let lastTickAt = clock.now();
  let stopped = false;
  let inProgress: Promise<void> = Promise.resolve();
  let lastError: string | undefined;

  function schedule(): void {
    if (stopped) return;
    clock.clearTimeout(timer);
    const delay = Math.max(0, lastTickAt + intervalMs - clock.now());
    timer = clock.setTimeout(tick, delay);
  }

  async function takeSample(): Promise<void> {
    try {
      const sample = await options.sampler.sample();
      await options.spool.append(sample);
      lastError = undefined;
      options.onSample();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message !== lastError)
        logger.error({ err: error }, "taking a sample failed; trying again next interval");
      lastError = message;
    }
  }

  let busy = false;
  function tick(): void {
    lastTickAt = clock.now();
    schedule();
    // A sample still running (hung mount, stalled disk) means this tick is skipped, not queued.
    if (busy) {
      logger.warn("the previous sample is still being taken; skipping this interval");
      return;
    }
    busy = true;
    inProgress = takeSample().finally(() => {
      busy = false;
    });
  }

  return {
    start() {
      lastTickAt = clock.now();
      schedule();
    },
    setIntervalSeconds(seconds) {
      if (seconds * 1000 === intervalMs) return;
      logger.info({ seconds }, "metrics interval changed");
      intervalMs = seconds * 1000;
      schedule();
    },
    get intervalMs() {
      return intervalMs;
    },
    async stop() {
      stopped = true;
      clock.clearTimeout(timer);
      await inProgress;
    },
  };
}
