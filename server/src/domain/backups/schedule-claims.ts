import { and, eq, lte } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { type BackupScheduleResult, backupSchedules } from "../../platform/db/schema/backup-schedules.js";
import { claimLeasedRows, type LeaseInput, renewRowLease } from "../../platform/workers/leases.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { type BackupScheduleRow, frequencyOf, nextRunAfter } from "./backup-schedule.js";

/** The rows the backup scheduler claims, keyed by instance. */
const leasedSchedules = {
  table: backupSchedules,
  key: backupSchedules.instanceId,
  owner: backupSchedules.leaseOwner,
  expiresAt: backupSchedules.leaseExpiresAt,
};

/**
 * Claims one due schedule for `owner` until `now + leaseMs`: enabled, its slot reached, and not
 * held by a live lease (an expired one means its process died mid-run). See `claimLeasedRows`.
 */
export async function claimDueSchedule(db: Db, input: LeaseInput): Promise<BackupScheduleRow | undefined> {
  const [claimed] = await claimLeasedRows(db, leasedSchedules, {
    ...input,
    limit: 1,
    due: and(eq(backupSchedules.enabled, true), lte(backupSchedules.nextRunAt, input.now)),
    orderBy: [backupSchedules.nextRunAt],
  });
  return claimed;
}

/** Extends a lease; false when the schedule is no longer this owner's (or was deleted). */
export async function renewScheduleLease(
  db: Db,
  input: LeaseInput & { readonly instanceId: string },
): Promise<boolean> {
  return renewRowLease(db, leasedSchedules, { ...input, key: input.instanceId });
}

/**
 * Records how a run went, moves the schedule to its next slot and lets the lease go, in one
 * transaction; a failure is also audited (a success is audited by the backup it created).
 * False when this owner no longer holds the schedule.
 */
export async function finishScheduledRun(
  db: Db,
  context: AuditContext,
  input: {
    readonly instanceId: string;
    readonly owner: string;
    readonly now: Date;
    readonly result: BackupScheduleResult;
    readonly message: string;
    readonly backupId: string | undefined;
  },
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(backupSchedules)
      .where(
        and(eq(backupSchedules.instanceId, input.instanceId), eq(backupSchedules.leaseOwner, input.owner)),
      )
      .for("update");
    if (!row) return false;
    await tx
      .update(backupSchedules)
      .set({
        nextRunAt: nextRunAfter(frequencyOf(row), input.now, row.nextRunAt),
        leaseOwner: null,
        leaseExpiresAt: null,
        lastRunAt: input.now,
        lastResult: input.result,
        lastMessage: input.message,
        lastBackupId: input.backupId ?? null,
        updatedAt: input.now,
      })
      .where(eq(backupSchedules.instanceId, input.instanceId));
    if (input.result === "failed") {
      await recordAudit(
        tx,
        context,
        {
          action: "backup.schedule.failed",
          targetType: "instance",
          targetId: input.instanceId,
          result: "failure",
          detail: input.message,
        },
        input.now,
      );
    }
    return true;
  });
}
