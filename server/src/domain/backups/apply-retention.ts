import { and, eq } from "drizzle-orm";
import { backups } from "../../platform/db/schema/instances.js";
import type { AuditContext } from "../audit/audit-context.js";
import { loadInstance } from "../instances/instance-queries.js";
import type { BackupDeps } from "./backup-deps.js";
import { removeBackup } from "./delete-backup.js";
import { backupsToKeep, type RetentionPolicy } from "./retention.js";

/**
 * Deletes the completed automatic backups the instance's retention policy no longer keeps;
 * returns how many. Manual, pre_delete and pre_restore backups are kept until deleted by hand
 * (a restore must never lose the backup it restores, nor the safety copy it takes first).
 */
export async function applyRetention(
  deps: BackupDeps,
  instanceId: string,
  context?: AuditContext,
): Promise<number> {
  const instance = await loadInstance(deps.db, instanceId);
  const policy: RetentionPolicy = {
    daily: instance.retentionDaily,
    weekly: instance.retentionWeekly,
    monthly: instance.retentionMonthly,
  };
  const completed = await deps.db
    .select()
    .from(backups)
    .where(
      and(eq(backups.instanceId, instanceId), eq(backups.state, "completed"), eq(backups.kind, "automatic")),
    );
  const keep = backupsToKeep(completed, policy);
  let deleted = 0;
  for (const row of completed.filter((backup) => !keep.has(backup.id))) {
    await removeBackup(deps, context, row, "backup.retention.delete");
    deleted += 1;
  }
  return deleted;
}
