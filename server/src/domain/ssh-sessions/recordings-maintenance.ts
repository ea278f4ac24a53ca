import type { Db } from "../../platform/db/database.js";
import type { Logger } from "../../platform/logging/logger.js";
import { closeInterruptedSessions, purgeExpiredSessions } from "./purge-sessions.js";

export interface RecordingsMaintenance {
  stop(): Promise<void>;
}

/**
 * The recordings' background job, every `everyMs` (default an hour, the first round a minute
 * after start): close sessions a stopped process left open, then purge those past retention.
 * Both are idempotent single statements, so replicas running it at once do no harm and need no
 * lease. A failure is logged once until a round succeeds again.
 */
export function startRecordingsMaintenance(options: {
  readonly db: Db;
  readonly logger: Logger;
  readonly retentionDays: number;
  readonly now?: () => Date;
  readonly everyMs?: number;
  readonly firstAfterMs?: number;
}): RecordingsMaintenance {
  const now = options.now ?? (() => new Date());
  const logger = options.logger.child({ job: "ssh-recordings-maintenance" });
  let failing = false;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  const round = async () => {
    try {
      const interrupted = await closeInterruptedSessions(options.db);
      const purged = await purgeExpiredSessions(options.db, {
        retentionDays: options.retentionDays,
        now: now(),
      });
      if (interrupted + purged > 0) logger.info({ interrupted, purged }, "SSH session records maintained");
      if (failing) logger.info("SSH recordings maintenance works again");
      failing = false;
    } catch (error) {
      if (!failing) logger.warn({ err: error }, "SSH recordings maintenance failed; retrying every round");
      failing = true;
    }
  };
  const schedule = (delay: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = round().finally(() => schedule(options.everyMs ?? 3_600_000));
    }, delay);
    timer.unref();
  };
  schedule(options.firstAfterMs ?? 60_000);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
