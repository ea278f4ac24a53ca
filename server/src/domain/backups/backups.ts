import { randomUUID } from "node:crypto";
import {
  InstanceBackedUpSchema,
  InstanceBackupSchema,
} from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import { and, desc, eq } from "drizzle-orm";
import { isUuid } from "../../platform/db/is-uuid.js";
import { type BackupKind, backups, instances } from "../../platform/db/schema/instances.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { AppError } from "../../platform/errors/app-error.js";
import { type AuditContext, systemContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { commandActorOf } from "../commands/command-runner.js";
import { requireSettled } from "../instances/instance-actions.js";
import { deadlineIn } from "../instances/instance-deps.js";
import { loadInstance } from "../instances/instance-queries.js";
import type { BackupDeps } from "./backup-deps.js";
import { backupStorageKey } from "./backup-store.js";
import { backupsToKeep, MAX_RETENTION, type RetentionPolicy } from "./retention.js";
import { createTicket } from "./transfer-tickets.js";

export type BackupRow = typeof backups.$inferSelect;

/** Odoo's data directory in its container (the filestore lives below it). */
export const ODOO_DATA_PATH = "/var/lib/odoo";

/** A backup failed on the agent; `agentCode` is the agent's error code (e.g. not_found). */
export class BackupFailedError extends AppError {
  constructor(
    message: string,
    readonly agentCode: string | null,
  ) {
    super("failed_precondition", message);
  }
}

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

/**
 * Backs an instance up: records the backup (`pending`, with the hash of a one-time upload
 * ticket), has the agent dump and upload it (the upload handler stores it and completes the
 * record), checks that the agent's and the store's checksums agree, then applies retention.
 */
export async function createBackup(
  deps: BackupDeps,
  context: AuditContext,
  input: { instanceId: string; kind: BackupKind },
): Promise<BackupRow> {
  const instance = await loadInstance(deps.db, input.instanceId);
  if (input.kind === "manual") requireSettled(instance, "back up");
  const id = randomUUID();
  const { ticket, hash } = createTicket();
  const _row = await deps.db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(backups)
      .values({
        id,
        instanceId: instance.id,
        instanceName: instance.name,
        serverId: instance.serverId,
        kind: input.kind,
        storageKey: backupStorageKey(instance.serverId, id),
        ticketHash: hash,
        createdAt: deps.now(),
      })
      .returning();
    if (!inserted) throw new AppError("internal", "the backup was not recorded");
    await recordAudit(tx, context, {
      action: "backup.create",
      targetType: "backup",
      targetId: id,
      after: { instanceId: instance.id, instanceName: instance.name, kind: input.kind },
    });
    return inserted;
  });
  const { commandId } = await deps.runner.submit({
    serverId: instance.serverId,
    input: InstanceBackupSchema,
    args: {
      instanceId: instance.id,
      backupId: id,
      uploadTicket: ticket,
      dumpCommand: [...deps.databaseCommands.dump],
      dataPath: ODOO_DATA_PATH,
    },
    deadline: deadlineIn(deps, deps.timing.backupMs),
    actor: commandActorOf(context),
  });
  const outcome = await deps.runner.wait(commandId, InstanceBackedUpSchema);
  const stored = await getBackup(deps.db, id);
  if (outcome.state !== "succeeded" || !outcome.result) {
    const why = outcome.errorMessage ?? outcome.state;
    await failBackup(deps, stored, `the agent could not take the backup: ${why}`);
    throw new BackupFailedError(`backing up instance "${instance.name}" failed: ${why}`, outcome.errorCode);
  }
  if (
    stored.state !== "completed" ||
    stored.sha256 !== outcome.result.sha256 ||
    stored.sizeBytes !== Number(outcome.result.sizeBytes)
  ) {
    await failBackup(deps, stored, "the stored archive does not match what the agent sent");
    throw new BackupFailedError(
      `backing up instance "${instance.name}" failed: the stored archive does not match what the agent sent; take the backup again`,
      null,
    );
  }
  if (input.kind === "automatic") await applyRetention(deps, instance.id);
  return stored;
}

async function failBackup(deps: BackupDeps, row: BackupRow, message: string): Promise<void> {
  await deps.db
    .update(backups)
    .set({ state: "failed", errorMessage: message, ticketHash: null, completedAt: deps.now() })
    .where(eq(backups.id, row.id));
  await deps.store
    .delete(row.storageKey)
    .catch((error: unknown) =>
      deps.logger.warn({ err: error }, "could not delete a failed backup's archive"),
    );
}

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

export async function getRetention(db: Queryable, instanceId: string): Promise<RetentionPolicy> {
  const row = await loadInstance(db, instanceId);
  return { daily: row.retentionDaily, weekly: row.retentionWeekly, monthly: row.retentionMonthly };
}

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
async function removeBackup(
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
