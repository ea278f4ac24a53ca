import { randomUUID } from "node:crypto";
import {
  InstanceBackedUpSchema,
  InstanceBackupSchema,
} from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import { eq } from "drizzle-orm";
import { type BackupKind, backups } from "../../platform/db/schema/instances.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { commandActorOf } from "../commands/command-runner.js";
import { requireSettled } from "../instances/instance-actions.js";
import { deadlineIn } from "../instances/instance-deps.js";
import { loadInstance } from "../instances/instance-queries.js";
import { applyRetention } from "./apply-retention.js";
import type { BackupDeps } from "./backup-deps.js";
import { type BackupRow, getBackup } from "./backup-queries.js";
import { backupStorageKey } from "./backup-store.js";
import { createTicket } from "./transfer-tickets.js";

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
