import type { Db } from "../../platform/db/database.js";
import { leaderLeases } from "../../platform/db/schema/replicas.js";
import type { Logger } from "../../platform/logging/logger.js";
import { workerOwnerId } from "../../platform/workers/leased-worker.js";
import { claimLeadership } from "../../platform/workers/leases.js";
import { applyRetention, type MetricsRetention, runRollups } from "./rollups.js";

export interface MetricsMaintenance {
  stop(): Promise<void>;
}

/**
 * The background job of the metrics tiers: rollups every minute, retention every hour. A
 * failure is logged once until the job succeeds again (no log line per retry). Across replicas
 * each runs once: a rollup round takes an advisory lock (rollups.ts; a busy one is skipped) and
 * retention a leader lease as long as its period, so one replica applies it per hour.
 */
export function startMetricsMaintenance(options: {
  readonly db: Db;
  readonly logger: Logger;
  readonly retention: MetricsRetention;
  readonly now?: () => Date;
  readonly rollupEveryMs?: number;
  readonly retentionEveryMs?: number;
}): MetricsMaintenance {
  const now = options.now ?? (() => new Date());
  const logger = options.logger.child({ job: "metrics-maintenance" });
  let failing = false;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let lastRetention = 0;
  let timer: NodeJS.Timeout | undefined;
  const owner = workerOwnerId();
  const retentionEveryMs = options.retentionEveryMs ?? 3_600_000;

  const round = async () => {
    const at = now();
    try {
      await runRollups(options.db, { now: at, retention: options.retention });
      if (
        at.getTime() - lastRetention >= retentionEveryMs &&
        (await claimLeadership(options.db, leaderLeases, {
          name: "metrics-retention",
          owner,
          leaseMs: retentionEveryMs,
          now: at,
        }))
      ) {
        const deleted = await applyRetention(options.db, { now: at, retention: options.retention });
        lastRetention = at.getTime();
        if (deleted.raw + deleted.minute + deleted.hour > 0)
          logger.info({ deleted }, "metric retention applied");
      }
      if (failing) logger.info("metrics maintenance works again");
      failing = false;
    } catch (error) {
      if (!failing) logger.warn({ err: error }, "metrics maintenance failed; retrying every round");
      failing = true;
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = round().finally(schedule);
    }, options.rollupEveryMs ?? 60_000);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
