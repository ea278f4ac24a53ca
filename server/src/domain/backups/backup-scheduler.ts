import { randomBytes } from "node:crypto";
import os from "node:os";
import type { BackupScheduleResult } from "../../platform/db/schema/backup-schedules.js";
import { componentLogger } from "../../platform/logging/logger.js";
import { systemContext } from "../audit/audit-context.js";
import { findInstance } from "../instances/instance-queries.js";
import type { BackupDeps } from "./backup-deps.js";
import type { BackupScheduleRow } from "./backup-schedule.js";
import { createBackup } from "./backups.js";
import { claimDueSchedule, finishScheduledRun, renewScheduleLease } from "./schedule-claims.js";

export interface SchedulerTiming {
  /** How often due schedules are looked for; a daily slot runs at most this late. */
  readonly pollMs: number;
  /** How long a claim holds without renewal; a dead process's run is retried after this. */
  readonly leaseMs: number;
  /** Scheduled backups this process takes at once. */
  readonly concurrency: number;
}

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
 * instance's retention after each one. Any number of server processes may run a scheduler.
 */
export function createBackupScheduler(
  deps: BackupDeps,
  timing: Partial<SchedulerTiming> = {},
): BackupScheduler {
  const { pollMs, leaseMs, concurrency } = { ...defaultSchedulerTiming, ...timing };
  const owner = `${os.hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const logger = componentLogger(deps.logger, "backup-scheduler", { owner });
  const running = new Set<Promise<void>>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let claimFailing = false;

  async function claimAndStart(): Promise<number> {
    let started = 0;
    while (!stopped && running.size < concurrency) {
      let schedule: BackupScheduleRow | undefined;
      try {
        schedule = await claimDueSchedule(deps.db, { owner, leaseMs, now: deps.now() });
        if (claimFailing) logger.info("claiming scheduled backups works again");
        claimFailing = false;
      } catch (error) {
        // Once per outage, not on every poll.
        if (!claimFailing) logger.error({ err: error }, "could not claim scheduled backups; retrying");
        claimFailing = true;
        return started;
      }
      if (!schedule) return started;
      const run = runOne(schedule).finally(() => running.delete(run));
      running.add(run);
      started += 1;
    }
    return started;
  }

  async function runOne(schedule: BackupScheduleRow): Promise<void> {
    const instanceId = schedule.instanceId;
    const runLogger = logger.child({ instanceId, slot: schedule.nextRunAt.toISOString() });
    const renew = setInterval(
      () =>
        void renewScheduleLease(deps.db, { instanceId, owner, leaseMs, now: deps.now() })
          .then((held) => {
            if (!held) runLogger.warn("lost the scheduled backup's lease (the schedule changed hands)");
          })
          .catch((error: unknown) => runLogger.warn({ err: error }, "could not renew the lease")),
      Math.max(200, Math.floor(leaseMs / 3)),
    );
    let outcome: { result: BackupScheduleResult; message: string; backupId?: string };
    try {
      outcome = await takeBackup(instanceId);
    } catch (error) {
      outcome = { result: "failed", message: (error as Error).message };
    } finally {
      clearInterval(renew);
    }
    if (outcome.result === "failed" && stopped) {
      // Shutting down cut it off: the lease runs out and another process (or the next start) retries.
      runLogger.info({ reason: outcome.message }, "scheduled backup interrupted by shutdown");
      return;
    }
    if (outcome.result === "failed") runLogger.warn({ reason: outcome.message }, "scheduled backup failed");
    else runLogger.info({ result: outcome.result, backupId: outcome.backupId }, "scheduled backup ended");
    try {
      await finishScheduledRun(deps.db, systemContext(), {
        instanceId,
        owner,
        now: deps.now(),
        result: outcome.result,
        message: outcome.message,
        backupId: outcome.backupId,
      });
    } catch (error) {
      runLogger.error({ err: error }, "could not record the scheduled backup's outcome");
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

  const poll = () => {
    if (stopped) return;
    void claimAndStart().finally(() => {
      if (!stopped) timer = setTimeout(poll, pollMs);
    });
  };

  return {
    owner,
    start() {
      logger.info({ pollMs }, "backup scheduler started");
      poll();
    },
    async runDue() {
      let total = 0;
      for (let started = -1; started !== 0; ) {
        started = await claimAndStart();
        total += started;
        while (running.size > 0) await Promise.allSettled([...running]);
      }
      return total;
    },
    async stop(graceMs = 5_000) {
      stopped = true;
      clearTimeout(timer);
      if (running.size === 0) return;
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...running]),
        new Promise((resolve) => {
          grace = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(grace);
    },
  };
}
