import { sql } from "drizzle-orm";
import { boolean, check, index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { instances } from "./instances.js";

export type BackupScheduleResult = "succeeded" | "failed" | "skipped";

/**
 * When an instance is backed up automatically: daily at `dailyAtMinute` (minutes after 00:00
 * UTC) or every `everyHours` hours, exactly one of them set. `nextRunAt` is the next slot; a
 * server process claims a due row with a lease (`leaseOwner` until `leaseExpiresAt`, renewed
 * while the backup runs) and moves `nextRunAt` on when the run ends, so several processes never
 * run the same slot twice, and a process that died mid-run is taken over once its lease expires.
 */
export const backupSchedules = pgTable(
  "backup_schedules",
  {
    instanceId: uuid("instance_id")
      .primaryKey()
      .references(() => instances.id, { onDelete: "cascade" }),
    enabled: boolean("enabled").notNull().default(true),
    dailyAtMinute: integer("daily_at_minute"),
    everyHours: integer("every_hours"),
    nextRunAt: timestamp("next_run_at", { withTimezone: true }).notNull(),
    leaseOwner: text("lease_owner"),
    leaseExpiresAt: timestamp("lease_expires_at", { withTimezone: true }),
    lastRunAt: timestamp("last_run_at", { withTimezone: true }),
    lastResult: text("last_result").$type<BackupScheduleResult>(),
    lastMessage: text("last_message").notNull().default(""),
    lastBackupId: uuid("last_backup_id"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index("backup_schedules_due").on(table.nextRunAt).where(sql`${table.enabled}`),
    check(
      "backup_schedules_frequency",
      sql`(${table.dailyAtMinute} is null) <> (${table.everyHours} is null)`,
    ),
    check("backup_schedules_daily_at", sql`${table.dailyAtMinute} between 0 and 1439`),
    check("backup_schedules_every_hours", sql`${table.everyHours} between 1 and 168`),
    check("backup_schedules_last_result", sql`${table.lastResult} in ('succeeded', 'failed', 'skipped')`),
  ],
);
