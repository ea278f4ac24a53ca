import {
  InstanceRestoredSchema,
  InstanceRestoreSchema,
} from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import { eq } from "drizzle-orm";
import { instances } from "../../platform/db/schema/instances.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { commandActorOf } from "../commands/command-runner.js";
import { createInstance } from "../instances/create-instance.js";
import { requireSettled } from "../instances/instance-actions.js";
import { deadlineIn } from "../instances/instance-deps.js";
import { findInstance } from "../instances/instance-queries.js";
import { deriveInstanceState } from "../instances/instance-state.js";
import type { InstanceRow } from "../instances/instance-view.js";
import type { BackupDeps } from "./backup-deps.js";
import { getBackup } from "./backup-queries.js";
import { armDownloadTicket } from "./backup-transfer.js";
import { createBackup, ODOO_DATA_PATH } from "./create-backup.js";
import { createTicket } from "./transfer-tickets.js";

/**
 * Restores a backup over its own instance (after an automatic pre_restore backup) or into a new
 * instance on the backup's server (created first, with the original instance's images when it
 * still exists). The agent downloads the archive with a one-time ticket and checks its SHA-256
 * before changing anything.
 */
export async function restoreBackup(
  deps: BackupDeps,
  context: AuditContext,
  input: { backupId: string; newInstanceName: string },
): Promise<{ instance: InstanceRow; adminPassword: string }> {
  const backup = await getBackup(deps.db, input.backupId);
  if (backup.state !== "completed") {
    throw new AppError(
      "failed_precondition",
      `the backup is ${backup.state}: only a completed backup can be restored`,
    );
  }
  const original = backup.instanceId ? await findInstance(deps.db, backup.instanceId) : undefined;
  let target: InstanceRow;
  let adminPassword = "";
  if (input.newInstanceName) {
    const created = await createInstance(deps, context, {
      serverId: backup.serverId,
      name: input.newInstanceName,
      odooImage: original?.odooImage ?? "",
      postgresImage: original?.postgresImage ?? "",
      mailpitImage: original?.mailpitImage ?? "",
      edition: original?.edition ?? "community",
      workers: original?.workers ?? 0,
      cpuMillis: original?.cpuMillis ?? 0,
      memoryBytes: BigInt(original?.memoryBytes ?? 0),
      environment: original?.environment ?? {},
    });
    adminPassword = created.adminPassword;
    const ready = await created.created;
    if (ready?.state !== "running") {
      throw new AppError(
        "failed_precondition",
        `the new instance "${input.newInstanceName}" could not be created (${ready?.stateMessage ?? "unknown"}); the backup was not restored`,
      );
    }
    target = ready;
  } else {
    if (!original) {
      throw new AppError(
        "failed_precondition",
        "the backup's instance was deleted: restore it into a new instance by giving new_instance_name",
      );
    }
    requireSettled(original, "restore");
    await createBackup(deps, context, { instanceId: original.id, kind: "pre_restore" });
    target = original;
  }
  const { ticket, hash } = createTicket();
  await armDownloadTicket(deps.db, backup.id, hash);
  const result = await deps.runner.run({
    serverId: target.serverId,
    input: InstanceRestoreSchema,
    args: {
      instanceId: target.id,
      backupId: backup.id,
      downloadTicket: ticket,
      sha256: backup.sha256,
      restoreCommand: [...deps.databaseCommands.restore],
      dataPath: ODOO_DATA_PATH,
    },
    output: InstanceRestoredSchema,
    deadline: deadlineIn(deps, deps.timing.backupMs),
    actor: commandActorOf(context),
  });
  const derived = deriveInstanceState(result.status, "running");
  const instance = await deps.db.transaction(async (tx) => {
    const [after] = await tx
      .update(instances)
      .set({
        state: derived.state,
        stateMessage: derived.message,
        desiredState: "running",
        updatedAt: deps.now(),
      })
      .where(eq(instances.id, target.id))
      .returning();
    if (!after) throw AppError.notFound("the instance");
    await recordAudit(tx, context, {
      action: "backup.restore",
      targetType: "instance",
      targetId: after.id,
      before: { backupId: backup.id, sha256: backup.sha256, into: input.newInstanceName ? "new" : "same" },
      after: { instanceId: after.id, name: after.name, state: after.state },
    });
    return after;
  });
  return { instance, adminPassword };
}
