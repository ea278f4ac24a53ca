import { fromBinary } from "@bufbuild/protobuf";
import type { InstanceStates } from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import {
  InstanceRestartSchema,
  InstanceRestoreSchema,
  InstanceStartSchema,
  type InstanceStatus,
  InstanceStopSchema,
} from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { isUuid } from "../../platform/db/is-uuid.js";
import { commands } from "../../platform/db/schema/commands.js";
import { instances } from "../../platform/db/schema/instances.js";
import { AppError } from "../../platform/errors/app-error.js";
import { deriveInstanceState, keepsStoredState } from "./instance-state.js";
import { OBSERVED_STATES } from "./instance-view.js";

/** What one InstanceStates message may carry; beyond it the agent's stream is refused. */
export const INSTANCE_STATES_LIMITS = {
  instancesPerMessage: 1000,
  containersPerInstance: 10,
  snapshotInstances: 10_000,
  text: 1024,
} as const;

/** Checks an agent's InstanceStates at the boundary (sizes, ids); throws invalid_argument. */
export function validateInstanceStates(message: InstanceStates): InstanceStates {
  const limits = INSTANCE_STATES_LIMITS;
  if (message.instances.length > limits.instancesPerMessage) {
    throw AppError.invalid("instanceStates.instances", `carries more than ${limits.instancesPerMessage}`);
  }
  for (const status of message.instances) {
    if (!isUuid(status.instanceId)) throw AppError.invalid("instanceStates.instanceId", "is not a UUID");
    if (status.containers.length > limits.containersPerInstance) {
      throw AppError.invalid("instanceStates.containers", `has more than ${limits.containersPerInstance}`);
    }
    for (const container of status.containers) {
      if ([container.role, container.state, container.error].some((text) => text.length > limits.text)) {
        throw AppError.invalid("instanceStates.containers", `a text is longer than ${limits.text}`);
      }
    }
  }
  const end = message.snapshotEnd;
  if (end && end.instanceIds.length > limits.snapshotInstances) {
    throw AppError.invalid("instanceStates.snapshotEnd", `lists more than ${limits.snapshotInstances}`);
  }
  return message;
}

/**
 * Commands that take an instance's containers down and up on purpose: while one is open, an exited
 * container is that command's doing, not a failure, and the command stores the outcome itself.
 */
const LIFECYCLE_SPECS = [
  InstanceStartSchema,
  InstanceStopSchema,
  InstanceRestartSchema,
  InstanceRestoreSchema,
];

/** Instances of the server with a start, stop, restart or restore not yet finished. */
async function instancesInTransition(db: Db, serverId: string): Promise<Set<string>> {
  const open = await db
    .select({ specType: commands.specType, spec: commands.spec })
    .from(commands)
    .where(
      and(
        eq(commands.serverId, serverId),
        inArray(commands.state, ["queued", "sent", "running"]),
        inArray(
          commands.specType,
          LIFECYCLE_SPECS.map((schema) => schema.typeName),
        ),
      ),
    );
  const ids = new Set<string>();
  for (const row of open) {
    const schema = LIFECYCLE_SPECS.find((candidate) => candidate.typeName === row.specType);
    if (schema) ids.add(fromBinary(schema, row.spec).instanceId);
  }
  return ids;
}

/**
 * Stores what a server's agent observed of its instances: each reported instance's state derived
 * from its containers (running, stopped, failed with the exit reason, restarting), and — at the
 * end of a full snapshot — `failed` for every instance that has no container left on the host.
 * Only instances whose state follows Docker are touched (creating and removing belong to their
 * background task), only instances of that server, and none with a start, stop, restart or
 * restore under way (its command stores the outcome; the next observation reconciles). Observations are not user actions: nothing
 * is audited; `updated_at` moves, so the live views that poll it see the change. Each update is
 * conditional on the row as read, so a concurrent action's write wins over an older observation.
 * Returns how many instances changed.
 */
export async function recordObservedInstanceStates(
  db: Db,
  serverId: string,
  message: InstanceStates,
  now: Date,
): Promise<number> {
  const rows = await db
    .select({
      id: instances.id,
      state: instances.state,
      stateMessage: instances.stateMessage,
      desiredState: instances.desiredState,
    })
    .from(instances)
    .where(eq(instances.serverId, serverId));
  const reported = new Map<string, InstanceStatus | undefined>(
    message.instances.map((status) => [status.instanceId, status]),
  );
  if (message.snapshotEnd) {
    const present = new Set(message.snapshotEnd.instanceIds);
    for (const row of rows) {
      if (!present.has(row.id) && !reported.has(row.id)) reported.set(row.id, undefined);
    }
  }
  let changed = 0;
  let inTransition: Set<string> | undefined;
  for (const row of rows) {
    if (!reported.has(row.id) || !OBSERVED_STATES.has(row.state)) continue;
    const derived = deriveInstanceState(reported.get(row.id), row.desiredState);
    if (derived.state === row.state && derived.message === row.stateMessage) continue;
    if (keepsStoredState(row, derived)) continue;
    inTransition ??= await instancesInTransition(db, serverId);
    if (inTransition.has(row.id)) continue;
    const updated = await db
      .update(instances)
      .set({ state: derived.state, stateMessage: derived.message, updatedAt: now })
      .where(
        and(
          eq(instances.id, row.id),
          eq(instances.state, row.state),
          eq(instances.stateMessage, row.stateMessage),
          eq(instances.desiredState, row.desiredState),
        ),
      )
      .returning({ id: instances.id });
    changed += updated.length;
  }
  return changed;
}
