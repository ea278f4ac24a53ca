import { eq } from "drizzle-orm";
import { instances } from "../../platform/db/schema/instances.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { applyRetention } from "./apply-retention.js";
import type { BackupDeps } from "./backup-deps.js";
import { getRetention } from "./backup-queries.js";
import { MAX_RETENTION, type RetentionPolicy } from "./retention.js";

export async function setRetention(
  deps: BackupDeps,
  context: AuditContext,
  instanceId: string,
  policy: RetentionPolicy,
): Promise<{ policy: RetentionPolicy; deleted: number }> {
  for (const [field, value] of Object.entries(policy)) {
    if (!Number.isInteger(value) || value < 0 || value > MAX_RETENTION) {
      throw AppError.invalid(`retention.${field}`, `must be 0 to ${MAX_RETENTION}`);
    }
  }
  const before = await getRetention(deps.db, instanceId);
  await deps.db.transaction(async (tx) => {
    await tx
      .update(instances)
      .set({ retentionDaily: policy.daily, retentionWeekly: policy.weekly, retentionMonthly: policy.monthly })
      .where(eq(instances.id, instanceId));
    await recordAudit(tx, context, {
      action: "backup.retention.set",
      targetType: "instance",
      targetId: instanceId,
      before,
      after: policy,
    });
  });
  return { policy, deleted: await applyRetention(deps, instanceId, context) };
}
