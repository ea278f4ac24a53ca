import { eq } from "drizzle-orm";
import { backups } from "../../platform/db/schema/instances.js";
import { AppError } from "../../platform/errors/app-error.js";
import { type AuditContext, systemContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import type { BackupDeps } from "./backup-deps.js";
import { type BackupRow, getBackup } from "./backup-queries.js";

export async function deleteBackup(deps: BackupDeps, context: AuditContext, id: string): Promise<void> {
  const row = await getBackup(deps.db, id);
  if (row.state === "pending") {
    throw new AppError(
      "failed_precondition",
      "the backup is still being taken: delete it once it completed or failed",
    );
  }
  await removeBackup(deps, context, row, "backup.delete");
}

/** Deletes the record (audited) and then the archive (an archive left behind is only logged). */
export async function removeBackup(
  deps: BackupDeps,
  context: AuditContext | undefined,
  row: BackupRow,
  action: string,
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    await tx.delete(backups).where(eq(backups.id, row.id));
    await recordAudit(tx, context ?? systemContext(), {
      action,
      targetType: "backup",
      targetId: row.id,
      before: {
        instanceId: row.instanceId,
        instanceName: row.instanceName,
        kind: row.kind,
        sha256: row.sha256,
      },
    });
  });
  await deps.store
    .delete(row.storageKey)
    .catch((error: unknown) =>
      deps.logger.warn({ err: error, backupId: row.id }, "could not delete a backup's archive"),
    );
}
