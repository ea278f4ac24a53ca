import { eq } from "drizzle-orm";
import { servers } from "../../platform/db/schema/servers.js";
import { componentLogger } from "../../platform/logging/logger.js";
import {
  createLeasedWorker,
  type LeasedRunContext,
  type LeasedWorkerTiming,
} from "../../platform/workers/leased-worker.js";
import { systemContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { type JobContext, type ProvisioningDeps, setServerStatus } from "./job-context.js";
import {
  claimJob,
  type JobRow,
  PROVISIONING_CHANNEL,
  releaseJobs,
  renewLease,
  updateOwnedJob,
} from "./job-store.js";
import { provisionServer } from "./provision-server.js";
import { JobSuperseded, ProvisioningFailure } from "./provisioning-failure.js";
import { removeServer } from "./remove-server.js";

export type WorkerTiming = LeasedWorkerTiming;

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
 * a worker: jobs are claimed with SKIP LOCKED and held by a renewed lease (a leased worker).
 */
export function startProvisioningWorker(
  deps: ProvisioningDeps,
  timing: Partial<WorkerTiming> = {},
): ProvisioningWorker {
  const worker = createLeasedWorker<JobRow>({
    ...defaultWorkerTiming,
    ...timing,
    db: deps.db,
    logger: componentLogger(deps.logger, "provisioning"),
    now: deps.now,
    channel: PROVISIONING_CHANNEL,
    claim: async (_limit, lease) => {
      const job = await claimJob(deps.db, lease);
      return job ? [job] : [];
    },
    renew: (job, lease) => renewLease(deps.db, { ...lease, serverId: job.serverId, kind: job.kind }),
    run,
    release: (owner) => releaseJobs(deps.db, owner),
    describe: (job) => ({ key: job.serverId, serverId: job.serverId, kind: job.kind, attempt: job.attempt }),
  });

  async function run(job: JobRow, { owner, signal, logger }: LeasedRunContext): Promise<void> {
    const context: JobContext = { job, owner, signal, logger };
    logger.info({ step: job.step }, job.kind === "provision" ? "provisioning" : "removing");
    await (job.kind === "provision" ? provisionServer(deps, context) : removeServer(deps, context))
      .catch((error: unknown) => (signal.aborted ? undefined : fail(context, error)))
      .catch((error: unknown) => logger.error({ err: error }, "could not record the job's failure"));
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

  worker.start();
  return { owner: worker.owner, wake: () => worker.wake(), stop: () => worker.stop() };
}
