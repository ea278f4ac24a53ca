import { eq } from "drizzle-orm";
import { type BackupScheduleResult, backupSchedules } from "../../platform/db/schema/backup-schedules.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { loadInstance } from "../instances/instance-queries.js";
import type { BackupDeps } from "./backup-deps.js";

export type BackupScheduleRow = typeof backupSchedules.$inferSelect;

/** How often an instance is backed up: daily at a time (UTC), or every N hours. */
export type BackupFrequency =
  | { readonly kind: "daily"; readonly minuteOfDay: number }
  | { readonly kind: "hourly"; readonly everyHours: number };

export interface BackupScheduleView {
  readonly enabled: boolean;
  readonly frequency: BackupFrequency | undefined;
  /** Undefined when disabled. */
  readonly nextRunAt: Date | undefined;
  readonly lastRunAt: Date | undefined;
  readonly lastResult: BackupScheduleResult | undefined;
  readonly lastMessage: string;
  readonly lastBackupId: string | undefined;
}

export const MAX_EVERY_HOURS = 168;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The first slot strictly after `now`. `anchor` is the slot the last run was due at (or when the
 * schedule was set): every-N-hours steps from it, so runs do not drift by how long each took;
 * an anchor still in the future is kept (the schedule was changed while a run went on).
 */
export function nextRunAfter(frequency: BackupFrequency, now: Date, anchor: Date = now): Date {
  if (anchor.getTime() > now.getTime()) return anchor;
  if (frequency.kind === "hourly") {
    const step = frequency.everyHours * HOUR_MS;
    const steps = Math.floor((now.getTime() - anchor.getTime()) / step) + 1;
    return new Date(anchor.getTime() + steps * step);
  }
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const today = midnight + frequency.minuteOfDay * 60_000;
  return new Date(today > now.getTime() ? today : today + DAY_MS);
}

export function frequencyOf(row: BackupScheduleRow): BackupFrequency {
  return row.everyHours !== null
    ? { kind: "hourly", everyHours: row.everyHours }
    : { kind: "daily", minuteOfDay: row.dailyAtMinute ?? 0 };
}

function viewOf(row: BackupScheduleRow | undefined): BackupScheduleView {
  return {
    enabled: row?.enabled ?? false,
    frequency: row ? frequencyOf(row) : undefined,
    nextRunAt: row?.enabled ? row.nextRunAt : undefined,
    lastRunAt: row?.lastRunAt ?? undefined,
    lastResult: row?.lastResult ?? undefined,
    lastMessage: row?.lastMessage ?? "",
    lastBackupId: row?.lastBackupId ?? undefined,
  };
}

export async function getBackupSchedule(db: Queryable, instanceId: string): Promise<BackupScheduleView> {
  AppError.requireId(instanceId, "instanceId");
  const instance = await loadInstance(db, instanceId);
  const [row] = await db.select().from(backupSchedules).where(eq(backupSchedules.instanceId, instance.id));
  return viewOf(row);
}

function checkFrequency(frequency: BackupFrequency): void {
  if (frequency.kind === "hourly") {
    const hours = frequency.everyHours;
    if (!Number.isInteger(hours) || hours < 1 || hours > MAX_EVERY_HOURS) {
      throw AppError.invalid("schedule.everyHours", `must be 1 to ${MAX_EVERY_HOURS} hours`);
    }
    return;
  }
  const minute = frequency.minuteOfDay;
  if (!Number.isInteger(minute) || minute < 0 || minute >= 24 * 60) {
    throw AppError.invalid("schedule.dailyAt", "must be a time of day from 00:00 to 23:59 (UTC)");
  }
}

const describe = (view: BackupScheduleView) => ({ enabled: view.enabled, frequency: view.frequency ?? null });

/**
 * Sets (or, disabled without a frequency, removes) an instance's schedule, audited with its
 * before and after. The next run is the first slot after now.
 */
export async function setBackupSchedule(
  deps: Pick<BackupDeps, "db" | "now">,
  context: AuditContext,
  instanceId: string,
  input: { readonly enabled: boolean; readonly frequency: BackupFrequency | undefined },
): Promise<BackupScheduleView> {
  AppError.requireId(instanceId, "instanceId");
  if (input.frequency) checkFrequency(input.frequency);
  else if (input.enabled) {
    throw AppError.invalid("schedule.frequency", "set daily_at or every_hours to enable the schedule");
  }
  const instance = await loadInstance(deps.db, instanceId);
  const now = deps.now();
  return deps.db.transaction(async (tx) => {
    const [existing] = await tx
      .select()
      .from(backupSchedules)
      .where(eq(backupSchedules.instanceId, instance.id))
      .for("update");
    const before = viewOf(existing);
    let after: BackupScheduleRow | undefined;
    if (!input.frequency) {
      await tx.delete(backupSchedules).where(eq(backupSchedules.instanceId, instance.id));
    } else {
      const values = {
        enabled: input.enabled,
        dailyAtMinute: input.frequency.kind === "daily" ? input.frequency.minuteOfDay : null,
        everyHours: input.frequency.kind === "hourly" ? input.frequency.everyHours : null,
        nextRunAt: nextRunAfter(input.frequency, now),
        updatedAt: now,
      };
      [after] = await tx
        .insert(backupSchedules)
        .values({ instanceId: instance.id, createdAt: now, ...values })
        .onConflictDoUpdate({ target: backupSchedules.instanceId, set: values })
        .returning();
    }
    const view = viewOf(after);
    await recordAudit(
      tx,
      context,
      {
        action: "backup.schedule.set",
        targetType: "instance",
        targetId: instance.id,
        before: describe(before),
        after: describe(view),
      },
      now,
    );
    return view;
  });
}
