import {
  InstanceCreatedSchema,
  InstanceRestartSchema,
  InstanceStartSchema,
  InstanceStopSchema,
} from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import { eq } from "drizzle-orm";
import { instances } from "../../platform/db/schema/instances.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { commandActorOf } from "../commands/command-runner.js";
import { requireAgentOnline } from "../presence/agent-reachability.js";
import { getServer } from "../servers/servers.js";
import { deadlineIn, type InstanceDeps } from "./instance-deps.js";
import { loadInstance } from "./instance-queries.js";
import { deriveInstanceState } from "./instance-state.js";
import type { InstanceRow } from "./instance-view.js";

export type InstanceAction = "start" | "stop" | "restart";

const SPECS = {
  start: InstanceStartSchema,
  stop: InstanceStopSchema,
  restart: InstanceRestartSchema,
} as const;

/** An instance busy with a background task refuses actions, saying why. */
export function requireSettled(row: InstanceRow, what: string): void {
  if (row.state === "creating" || row.state === "removing") {
    throw new AppError(
      "failed_precondition",
      `instance "${row.name}" is ${row.state}: wait until that is done before you ${what} it`,
    );
  }
}

/**
 * Start, stop or restart on the host (the agent answers with Docker's states), then store the
 * derived state and the desired state and audit the change in one transaction.
 */
export async function changeInstanceState(
  deps: InstanceDeps,
  context: AuditContext,
  id: string,
  action: InstanceAction,
): Promise<InstanceRow> {
  const before = await loadInstance(deps.db, id);
  requireSettled(before, action);
  requireAgentOnline(await getServer(deps.db, before.serverId), deps.now());
  const result = await deps.runner.run({
    serverId: before.serverId,
    input: SPECS[action],
    args: { instanceId: before.id },
    output: InstanceCreatedSchema,
    deadline: deadlineIn(deps, deps.timing.actionMs),
    actor: commandActorOf(context),
  });
  const desiredState = action === "stop" ? "stopped" : "running";
  const derived = deriveInstanceState(result.status, desiredState);
  return deps.db.transaction(async (tx) => {
    const [after] = await tx
      .update(instances)
      .set({ desiredState, state: derived.state, stateMessage: derived.message, updatedAt: deps.now() })
      .where(eq(instances.id, before.id))
      .returning();
    if (!after) throw AppError.notFound("the instance");
    await recordAudit(tx, context, {
      action: `instance.${action}`,
      targetType: "instance",
      targetId: before.id,
      before: { state: before.state, desiredState: before.desiredState },
      after: { state: after.state, desiredState: after.desiredState, stateMessage: after.stateMessage },
    });
    return after;
  });
}
