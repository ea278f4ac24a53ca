import { randomBytes } from "node:crypto";
import os from "node:os";
import { eq } from "drizzle-orm";
import { servers } from "../../platform/db/schema/servers.js";
import { componentLogger } from "../../platform/logging/logger.js";
import { systemContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { type JobContext, type ProvisioningDeps, setServerStatus } from "./job-context.js";
import { claimJob, type JobRow, releaseJobs, renewLease, updateOwnedJob } from "./job-store.js";
import { provisionServer } from "./provision-server.js";
import { JobSuperseded, ProvisioningFailure } from "./provisioning-failure.js";
import { removeServer } from "./remove-server.js";

export interface WorkerTiming {
  /** How often idle workers look for due jobs (enqueueing also wakes them). */
  readonly pollMs: number;
  /** How long a claim holds without renewal; a dead process's jobs resume after this. */
  readonly leaseMs: number;
  /** Jobs this process runs at once. */
  readonly concurrency: number;
}

export const defaultWorkerTiming: WorkerTiming = { pollMs: 2_000, leaseMs: 30_000, concurrency: 4 };

export interface ProvisioningWorker {
  /** The lease owner name of this process (host:pid:random). */
  readonly owner: string;
  /** Looks for due jobs now (called after a job is queued). */
  wake(): void;
  /** Stops claiming, aborts running jobs and gives their leases back so they resume at once elsewhere. */
  stop(): Promise<void>;
}

/**
 * Runs provisioning and removal jobs from the database. Any number of server processes may run
 * a worker: jobs are claimed with SKIP LOCKED and held by a renewed lease.
 */
export function startProvisioningWorker(
  deps: ProvisioningDeps,
  timing: Partial<WorkerTiming> = {},
): ProvisioningWorker {
  const { pollMs, leaseMs, concurrency } = { ...defaultWorkerTiming, ...timing };
  const owner = `${os.hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const logger = componentLogger(deps.logger, "provisioning", { owner });
  const running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;

  const schedule = (delay: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      polling ??= poll().finally(() => {
        polling = undefined;
        schedule(pollMs);
      });
    }, delay);
  };

  async function poll(): Promise<void> {
    while (!stopped && running.size < concurrency) {
      let job: JobRow | undefined;
      try {
        job = await claimJob(deps.db, { owner, leaseMs, now: deps.now() });
      } catch (error) {
        logger.error({ err: error }, "could not claim provisioning jobs; retrying");
        return;
      }
      if (!job) return;
      run(job);
    }
  }

  function run(job: JobRow): void {
    const controller = new AbortController();
    const jobLogger = logger.child({ serverId: job.serverId, kind: job.kind, attempt: job.attempt });
    const context: JobContext = { job, owner, signal: controller.signal, logger: jobLogger };
    const renew = setInterval(
      async () => {
        try {
          const held = await renewLease(deps.db, {
            serverId: job.serverId,
            owner,
            kind: job.kind,
            leaseMs,
            now: deps.now(),
          });
          if (!held) controller.abort();
        } catch (error) {
          jobLogger.warn({ err: error }, "could not renew the job's lease");
        }
      },
      Math.max(200, Math.floor(leaseMs / 3)),
    );
    jobLogger.info({ step: job.step }, job.kind === "provision" ? "provisioning" : "removing");
    const done = (job.kind === "provision" ? provisionServer(deps, context) : removeServer(deps, context))
      .catch((error: unknown) => (controller.signal.aborted ? undefined : fail(context, error)))
      .catch((error: unknown) => jobLogger.error({ err: error }, "could not record the job's failure"))
      .finally(() => {
        clearInterval(renew);
        running.delete(job.serverId);
        schedule(0);
      });
    running.set(job.serverId, { controller, done });
  }

  async function fail(context: JobContext, error: unknown): Promise<void> {
    if (error instanceof JobSuperseded) return;
    const failure =
      error instanceof ProvisioningFailure
        ? error
        : new ProvisioningFailure(
            "internal",
            "an unexpected error stopped the job (see the server log); retry",
          );
    if (!(error instanceof ProvisioningFailure))
      context.logger.error({ err: error }, "provisioning job failed");
    else context.logger.warn({ reason: failure.reason }, failure.message);
    const serverId = context.job.serverId;
    await deps.db.transaction(async (tx) => {
      const now = deps.now();
      const owned = await updateOwnedJob(tx, context.owner, serverId, {
        state: "failed",
        errorReason: failure.reason,
        errorMessage: failure.message,
        finishedAt: now,
        updatedAt: now,
        leaseExpiresAt: null,
      });
      if (!owned) return;
      if (context.job.kind === "provision") {
        await setServerStatus(tx, serverId, "failed", now, {
          reason: failure.reason,
          message: failure.message,
        });
      } else {
        await tx
          .update(servers)
          .set({ statusReason: failure.reason, statusMessage: failure.message, updatedAt: now })
          .where(eq(servers.id, serverId));
      }
      await recordAudit(
        tx,
        systemContext(),
        {
          action: context.job.kind === "provision" ? "server.provisioning_failed" : "server.removal_failed",
          targetType: "server",
          targetId: serverId,
          result: "failure",
          detail: `${failure.reason}: ${failure.message}`,
        },
        now,
      );
    });
  }

  schedule(0);
  return {
    owner,
    wake: () => schedule(0),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await polling;
      for (const { controller } of running.values()) controller.abort();
      await Promise.all([...running.values()].map((entry) => entry.done));
      await releaseJobs(deps.db, owner);
    },
  };
}
