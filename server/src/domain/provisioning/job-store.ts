import { and, eq, inArray, lte, ne, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { notifyOn } from "../../platform/db/notifications.js";
import {
  type JobKind,
  type ProvisioningStep,
  provisioningJobs,
  provisioningSteps,
} from "../../platform/db/schema/provisioning.js";
import type { Queryable } from "../../platform/db/transaction.js";
import {
  claimLeasedRows,
  type LeaseInput,
  releaseRowLeases,
  renewRowLease,
} from "../../platform/workers/leases.js";

/** The channel enqueueing notifies, on which provisioning workers listen. */
export const PROVISIONING_CHANNEL = "ocore_provisioning";

export type JobRow = typeof provisioningJobs.$inferSelect;
export type StepRow = typeof provisioningSteps.$inferSelect;

/**
 * Queues a job for a server, replacing whatever job it had (one row per server): a new
 * provisioning attempt, or a removal that takes over from a provisioning job still running
 * (that worker loses its lease at its next renewal and stops).
 */
export async function enqueueJob(
  db: Queryable,
  input: {
    readonly serverId: string;
    readonly kind: JobKind;
    readonly step: ProvisioningStep;
    readonly now: Date;
    readonly acceptedRequirements?: readonly string[];
    readonly plannedInstances?: number;
    readonly force?: boolean;
  },
): Promise<void> {
  const values = {
    kind: input.kind,
    state: "pending" as const,
    step: input.step,
    runAfter: input.now,
    leaseOwner: null,
    leaseExpiresAt: null,
    errorReason: null,
    errorMessage: null,
    finishedAt: null,
    force: input.force ?? false,
    updatedAt: input.now,
    ...(input.acceptedRequirements ? { acceptedRequirements: [...input.acceptedRequirements] } : {}),
    ...(input.plannedInstances ? { plannedInstances: input.plannedInstances } : {}),
  };
  await db
    .insert(provisioningJobs)
    .values({ serverId: input.serverId, createdAt: input.now, ...values })
    .onConflictDoUpdate({
      target: provisioningJobs.serverId,
      set: { ...values, attempt: sql`${provisioningJobs.attempt} + 1` },
    });
  // Delivered at the commit: every replica's worker looks at once (PostgreSQL; PGlite polls).
  await notifyOn(db, PROVISIONING_CHANNEL);
}

/** The rows provisioning workers claim, keyed by server. */
const leasedJobs = {
  table: provisioningJobs,
  key: provisioningJobs.serverId,
  owner: provisioningJobs.leaseOwner,
  expiresAt: provisioningJobs.leaseExpiresAt,
};

/**
 * Claims one due job for `owner` until `now + leaseMs`: pending jobs, and running jobs whose
 * lease ran out (their process died). See `claimLeasedRows`.
 */
export async function claimJob(db: Db, input: LeaseInput): Promise<JobRow | undefined> {
  const [claimed] = await claimLeasedRows(db, leasedJobs, {
    ...input,
    limit: 1,
    due: and(
      inArray(provisioningJobs.state, ["pending", "running"]),
      // A join job is driven by its host's own reports, never by an SSH worker.
      ne(provisioningJobs.kind, "join"),
      lte(provisioningJobs.runAfter, input.now),
    ),
    orderBy: [provisioningJobs.runAfter],
    set: { state: "running", updatedAt: input.now },
  });
  return claimed;
}

/** Extends the lease; false when the job is no longer this owner's (taken over, replaced, or gone). */
export async function renewLease(
  db: Db,
  input: LeaseInput & { readonly serverId: string; readonly kind: JobKind },
): Promise<boolean> {
  return renewRowLease(db, leasedJobs, {
    ...input,
    key: input.serverId,
    where: and(eq(provisioningJobs.kind, input.kind), eq(provisioningJobs.state, "running")),
  });
}

/** Gives claimed jobs back (a clean shutdown), so another process or the next start resumes them at once. */
export async function releaseJobs(db: Db, owner: string): Promise<void> {
  await releaseRowLeases(db, leasedJobs, { owner, where: eq(provisioningJobs.state, "running") });
}

/** Changes an owned job (its step, facts, verdicts…); false when the job is no longer ours. */
export async function updateOwnedJob(
  db: Queryable,
  owner: string,
  serverId: string,
  patch: Partial<Omit<JobRow, "serverId" | "leaseOwner">>,
): Promise<boolean> {
  const rows = await db
    .update(provisioningJobs)
    .set(patch)
    .where(and(eq(provisioningJobs.serverId, serverId), eq(provisioningJobs.leaseOwner, owner)))
    .returning({ serverId: provisioningJobs.serverId });
  return rows.length > 0;
}

export async function startStep(
  db: Queryable,
  input: {
    readonly serverId: string;
    readonly attempt: number;
    readonly step: ProvisioningStep;
    readonly message: string;
    readonly now: Date;
  },
): Promise<string> {
  const [row] = await db
    .insert(provisioningSteps)
    .values({ ...input, startedAt: input.now, status: "running" })
    .returning({ id: provisioningSteps.id });
  if (!row) throw new Error("the step was not recorded");
  return row.id;
}

export async function endStep(
  db: Queryable,
  input: {
    readonly id: string;
    readonly status: "succeeded" | "failed";
    readonly message: string;
    readonly now: Date;
  },
): Promise<void> {
  await db
    .update(provisioningSteps)
    .set({ status: input.status, message: input.message, endedAt: input.now })
    .where(eq(provisioningSteps.id, input.id));
}

export async function findJob(db: Queryable, serverId: string): Promise<JobRow | undefined> {
  const [row] = await db.select().from(provisioningJobs).where(eq(provisioningJobs.serverId, serverId));
  return row;
}

export async function listSteps(db: Queryable, serverId: string): Promise<StepRow[]> {
  return db
    .select()
    .from(provisioningSteps)
    .where(eq(provisioningSteps.serverId, serverId))
    .orderBy(provisioningSteps.startedAt);
}
