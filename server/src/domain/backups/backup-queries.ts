import { desc, eq } from "drizzle-orm";
import { isUuid } from "../../platform/db/is-uuid.js";
import { backups } from "../../platform/db/schema/instances.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { AppError } from "../../platform/errors/app-error.js";
import { loadInstance } from "../instances/instance-queries.js";
import type { RetentionPolicy } from "./retention.js";

export type BackupRow = typeof backups.$inferSelect;

export async function findBackup(db: Queryable, id: string): Promise<BackupRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await db.select().from(backups).where(eq(backups.id, id));
  return row;
}

export async function getBackup(db: Queryable, id: string): Promise<BackupRow> {
  AppError.requireId(id);
  const row = await findBackup(db, id);
  if (!row) throw AppError.notFound("the backup");
  return row;
}

export async function listBackups(db: Queryable, instanceId: string): Promise<BackupRow[]> {
  AppError.requireId(instanceId, "instanceId");
  return db.select().from(backups).where(eq(backups.instanceId, instanceId)).orderBy(desc(backups.createdAt));
}

export async function getRetention(db: Queryable, instanceId: string): Promise<RetentionPolicy> {
  const row = await loadInstance(db, instanceId);
  return { daily: row.retentionDaily, weekly: row.retentionWeekly, monthly: row.retentionMonthly };
}
