import type { BackupScheduleResult } from "../../platform/db/schema/backup-schedules.js";
import { componentLogger } from "../../platform/logging/logger.js";
import {
  createLeasedWorker,
  type LeasedRunContext,
  type LeasedWorkerTiming,
} from "../../platform/workers/leased-worker.js";
import { systemContext } from "../audit/audit-context.js";
import { findInstance } from "../instances/instance-queries.js";
import type { BackupDeps } from "./backup-deps.js";
import type { BackupScheduleRow } from "./backup-schedule.js";
import { createBackup } from "./create-backup.js";
import { claimDueSchedule, finishScheduledRun, renewScheduleLease } from "./schedule-claims.js";

export type SchedulerTiming = LeasedWorkerTiming;

export const defaultSchedulerTiming: SchedulerTiming = { pollMs: 30_000, leaseMs: 90_000, concurrency: 2 };

export interface BackupScheduler {
  /** The lease owner name of this process (host:pid:random). */
  readonly owner: string;
  /** Polls every `pollMs` until stopped. */
  start(): void;
  /** Claims and runs what is due now and resolves when those runs ended; returns how many ran. */
  runDue(): Promise<number>;
  /**
   * Stops claiming and waits up to `graceMs` for runs under way. Leases are not given back: a
   * backup the agent may still be taking must not be started again elsewhere at once; another
   * process takes the slot over when the lease expires.
   */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Takes scheduled (automatic) backups through the ordinary backup use case, which applies the
 * instance's retention after each one. Any number of server processes may run a scheduler: a
 * leased worker over the due schedules.
 */
export function createBackupScheduler(
  deps: BackupDeps,
  timing: Partial<SchedulerTiming> = {},
): BackupScheduler {
  const worker = createLeasedWorker<BackupScheduleRow>({
    ...defaultSchedulerTiming,
    ...timing,
    db: deps.db,
    logger: componentLogger(deps.logger, "backup-scheduler"),
    now: deps.now,
    claim: async (_limit, lease) => {
      const schedule = await claimDueSchedule(deps.db, lease);
      return schedule ? [schedule] : [];
    },
    renew: (schedule, lease) => renewScheduleLease(deps.db, { ...lease, instanceId: schedule.instanceId }),
    run: runOne,
    // No release: see stop().
    describe: (schedule) => ({
      key: schedule.instanceId,
      instanceId: schedule.instanceId,
      slot: schedule.nextRunAt.toISOString(),
    }),
  });

  async function runOne(schedule: BackupScheduleRow, run: LeasedRunContext): Promise<void> {
    const instanceId = schedule.instanceId;
    let outcome: { result: BackupScheduleResult; message: string; backupId?: string };
    try {
      outcome = await takeBackup(instanceId);
    } catch (error) {
      outcome = { result: "failed", message: (error as Error).message };
    }
    if (outcome.result === "failed" && run.stopping()) {
      // Shutting down cut it off: the lease runs out and another process (or the next start) retries.
      run.logger.info({ reason: outcome.message }, "scheduled backup interrupted by shutdown");
      return;
    }
    if (outcome.result === "failed") run.logger.warn({ reason: outcome.message }, "scheduled backup failed");
    else run.logger.info({ result: outcome.result, backupId: outcome.backupId }, "scheduled backup ended");
    try {
      await finishScheduledRun(deps.db, systemContext(), {
        instanceId,
        owner: run.owner,
        now: deps.now(),
        result: outcome.result,
        message: outcome.message,
        backupId: outcome.backupId,
      });
    } catch (error) {
      run.logger.error({ err: error }, "could not record the scheduled backup's outcome");
    }
  }

  async function takeBackup(
    instanceId: string,
  ): Promise<{ result: BackupScheduleResult; message: string; backupId?: string }> {
    const instance = await findInstance(deps.db, instanceId);
    if (!instance) return { result: "skipped", message: "the instance no longer exists" };
    // Creating or removing: nothing to back up yet or any more; stopped: nothing changed.
    if (["creating", "removing", "stopped"].includes(instance.state)) {
      return { result: "skipped", message: `the instance is ${instance.state}` };
    }
    const backup = await createBackup(deps, systemContext(), { instanceId, kind: "automatic" });
    return { result: "succeeded", message: "", backupId: backup.id };
  }

  return {
    owner: worker.owner,
    start: () => worker.start(),
    runDue: () => worker.runDue(),
    stop: (graceMs = 5_000) => worker.stop({ graceMs }),
  };
}
