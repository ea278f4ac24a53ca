import type { Logger } from "../../platform/logging/logger.js";

/**
 * In-process background work (creating, removing instances) whose progress lives in the
 * database: a restart finds the records and resolves them (resumeInstanceTasks). Tracked so
 * tests and shutdown can wait for it.
 */
export interface BackgroundTasks {
  run(name: string, task: () => Promise<void>): void;
  /** Resolves when no task is running. */
  idle(): Promise<void>;
}

export function createBackgroundTasks(logger: Logger): BackgroundTasks {
  const running = new Set<Promise<void>>();
  return {
    run(name, task) {
      const promise = task()
        .catch((error: unknown) => logger.error({ err: error, task: name }, "background task failed"))
        .finally(() => running.delete(promise));
      running.add(promise);
    },
    async idle() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
