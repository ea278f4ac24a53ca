import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { rowsOf } from "../../platform/db/rows-of.js";
import { type BackupScheduleResult, backupSchedules } from "../../platform/db/schema/backup-schedules.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { type BackupScheduleRow, frequencyOf, nextRunAfter } from "./backup-schedule.js";

/**
 * Claims one due schedule for `owner` until `now + leaseMs`: enabled, its slot reached, and not
 * held by a live lease (an expired one means its process died mid-run). SKIP LOCKED lets several
 * server processes claim at once without waiting on each other or taking the same schedule.
 */
export async function claimDueSchedule(
  db: Db,
  input: { readonly owner: string; readonly leaseMs: number; readonly now: Date },
): Promise<BackupScheduleRow | undefined> {
  const now = input.now.toISOString();
  return db.transaction(async (tx) => {
    const due = rowsOf<{ instance_id: string }>(
      await tx.execute(sql`
        select instance_id from backup_schedules
        where enabled and next_run_at <= ${now}::timestamptz
          and (lease_expires_at is null or lease_expires_at < ${now}::timestamptz)
        order by next_run_at
        limit 1
        for update skip locked`),
    );
    const instanceId = due[0]?.instance_id;
    if (!instanceId) return undefined;
    const [claimed] = await tx
      .update(backupSchedules)
      .set({
        leaseOwner: input.owner,
        leaseExpiresAt: new Date(input.now.getTime() + input.leaseMs),
      })
      .where(eq(backupSchedules.instanceId, instanceId))
      .returning();
    return claimed;
  });
}

/** Extends a lease; false when the schedule is no longer this owner's (or was deleted). */
export async function renewScheduleLease(
  db: Db,
  input: {
    readonly instanceId: string;
    readonly owner: string;
    readonly leaseMs: number;
    readonly now: Date;
  },
): Promise<boolean> {
  const renewed = await db
    .update(backupSchedules)
    .set({ leaseExpiresAt: new Date(input.now.getTime() + input.leaseMs) })
    .where(and(eq(backupSchedules.instanceId, input.instanceId), eq(backupSchedules.leaseOwner, input.owner)))
    .returning({ instanceId: backupSchedules.instanceId });
  return renewed.length > 0;
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
