import {
  InstanceRemovedSchema,
  InstanceRemoveSchema,
} from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import { eq } from "drizzle-orm";
import { instances } from "../../platform/db/schema/instances.js";
import { AppError } from "../../platform/errors/app-error.js";
import { type AuditContext, systemContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import type { CommandActor } from "../commands/command-runner.js";
import { commandActorOf, systemActor } from "../commands/command-runner.js";
import { deadlineIn, type InstanceDeps } from "./instance-deps.js";
import { loadInstance } from "./instance-queries.js";
import type { InstanceRow } from "./instance-view.js";

/**
 * Marks the instance `removing` (audited) and deletes it in the background: an automatic
 * pre_delete backup first (unless skipped), then the containers, volumes and network, then the
 * record (its port block is freed with it; its backups stay).
 */
export async function deleteInstance(
  deps: InstanceDeps,
  context: AuditContext,
  id: string,
  options: { skipBackup: boolean },
): Promise<InstanceRow> {
  const before = await loadInstance(deps.db, id);
  if (before.state === "removing") return before;
  if (before.state === "creating") {
    throw new AppError(
      "failed_precondition",
      `instance "${before.name}" is still being created: delete it once that ended`,
    );
  }
  const after = await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(instances)
      .set({
        state: "removing",
        stateMessage: options.skipBackup ? "removing" : "taking the automatic backup",
        updatedAt: deps.now(),
      })
      .where(eq(instances.id, before.id))
      .returning();
    if (!row) throw AppError.notFound("the instance");
    await recordAudit(tx, context, {
      action: "instance.delete",
      targetType: "instance",
      targetId: before.id,
      before: { name: before.name, state: before.state },
      after: { state: "removing", skipBackup: options.skipBackup },
    });
    return row;
  });
  const actor = commandActorOf(context);
  deps.tasks.run(`delete instance ${after.id}`, () =>
    removeInstance(deps, context, after, options.skipBackup, actor),
  );
  return after;
}

async function removeInstance(
  deps: InstanceDeps,
  context: AuditContext,
  row: InstanceRow,
  skipBackup: boolean,
  actor: CommandActor,
): Promise<void> {
  if (!skipBackup) {
    try {
      await deps.backupBeforeDelete(context, row.id);
    } catch (error) {
      await stopRemoval(
        deps,
        row,
        `deletion stopped: the automatic backup failed (${(error as Error).message}). Fix the cause and delete again, or delete with skip_backup`,
      );
      return;
    }
  }
  try {
    await deps.runner.run({
      serverId: row.serverId,
      input: InstanceRemoveSchema,
      args: { instanceId: row.id, name: row.name },
      output: InstanceRemovedSchema,
      deadline: deadlineIn(deps, deps.timing.actionMs),
      actor,
    });
  } catch (error) {
    await stopRemoval(
      deps,
      row,
      `deletion failed on the server: ${(error as Error).message}. Delete it again`,
    );
    return;
  }
  await deps.db.transaction(async (tx) => {
    await tx.delete(instances).where(eq(instances.id, row.id));
    await recordAudit(tx, systemContext(), {
      action: "instance.delete.finished",
      targetType: "instance",
      targetId: row.id,
      before: { name: row.name, state: "removing", basePort: row.basePort },
    });
  });
}

async function stopRemoval(deps: InstanceDeps, row: InstanceRow, message: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    await tx
      .update(instances)
      .set({ state: "failed", stateMessage: message, updatedAt: deps.now() })
      .where(eq(instances.id, row.id));
    await recordAudit(tx, systemContext(), {
      action: "instance.delete.finished",
      targetType: "instance",
      targetId: row.id,
      before: { state: "removing" },
      after: { state: "failed", stateMessage: message },
      result: "failure",
    });
  });
}

/**
 * After a restart: an instance left `creating` is marked failed (its command's outcome is not
 * known to this process); one left `removing` is removed again (the backup is taken again).
 */
export async function resumeInstanceTasks(deps: InstanceDeps): Promise<{ failed: number; resumed: number }> {
  const message =
    "the oCore server restarted while the instance was being created: delete it and create it again";
  const creating = await deps.db.transaction(async (tx) => {
    const rows = await tx
      .update(instances)
      .set({ state: "failed", stateMessage: message, updatedAt: deps.now() })
      .where(eq(instances.state, "creating"))
      .returning({ id: instances.id });
    for (const row of rows) {
      await recordAudit(tx, systemContext(), {
        action: "instance.create.finished",
        targetType: "instance",
        targetId: row.id,
        before: { state: "creating" },
        after: { state: "failed", stateMessage: message },
        result: "failure",
      });
    }
    return rows;
  });
  const removing = await deps.db.select().from(instances).where(eq(instances.state, "removing"));
  for (const row of removing) {
    deps.tasks.run(`delete instance ${row.id}`, () =>
      removeInstance(deps, systemContext(), row, false, systemActor),
    );
  }
  return { failed: creating.length, resumed: removing.length };
}
