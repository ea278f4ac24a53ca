import {
  InstanceInspectedSchema,
  InstanceInspectSchema,
} from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import { and, asc, eq, inArray } from "drizzle-orm";
import { isUuid } from "../../platform/db/is-uuid.js";
import { instances } from "../../platform/db/schema/instances.js";
import { servers } from "../../platform/db/schema/servers.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Scope } from "../auth/principal.js";
import { systemActor } from "../commands/command-runner.js";
import { scopeCondition } from "../servers/servers.js";
import { deadlineIn, type InstanceDeps } from "./instance-deps.js";
import { deriveInstanceState, keepsStoredState } from "./instance-state.js";
import { type InstanceRow, OBSERVED_STATES } from "./instance-view.js";

export async function findInstance(db: Queryable, id: string): Promise<InstanceRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await db.select().from(instances).where(eq(instances.id, id));
  return row;
}

/** The stored record, without asking the agent. */
export async function loadInstance(db: Queryable, id: string): Promise<InstanceRow> {
  AppError.requireId(id);
  const row = await findInstance(db, id);
  if (!row) throw AppError.notFound("the instance");
  return row;
}

/** One instance, its state refreshed from Docker when its agent answers quickly. */
export async function getInstance(deps: InstanceDeps, id: string): Promise<InstanceRow> {
  const row = await loadInstance(deps.db, id);
  const [refreshed] = await refreshInstanceStates(deps, [row]);
  return refreshed ?? row;
}

/** The instances on servers the scope lets the caller see, refreshed from Docker. */
export async function listInstances(
  deps: InstanceDeps,
  scope: Scope,
  filter: { serverId?: string },
): Promise<InstanceRow[]> {
  if (filter.serverId) AppError.requireId(filter.serverId, "serverId");
  const rows = await deps.db
    .select({ instance: instances })
    .from(instances)
    .innerJoin(servers, eq(servers.id, instances.serverId))
    .where(and(scopeCondition(scope), filter.serverId ? eq(instances.serverId, filter.serverId) : undefined))
    .orderBy(asc(servers.name), asc(instances.name));
  return refreshInstanceStates(
    deps,
    rows.map((row) => row.instance),
  );
}

/**
 * Asks each server's agent (one InstanceInspect per server, a short deadline) what Docker
 * reports, and stores the derived states that changed. An agent that does not answer leaves the
 * stored states: this is a best-effort refresh, never an error for the caller. Servers whose agent
 * pushes its instance states on a stream this process holds (`statesPushed`) are skipped: their
 * stored states are already what Docker reports (observed-instance-states.ts).
 */
export async function refreshInstanceStates(deps: InstanceDeps, rows: InstanceRow[]): Promise<InstanceRow[]> {
  const byServer = new Map<string, InstanceRow[]>();
  for (const row of rows) {
    if (!OBSERVED_STATES.has(row.state) || deps.statesPushed?.(row.serverId)) continue;
    byServer.set(row.serverId, [...(byServer.get(row.serverId) ?? []), row]);
  }
  if (byServer.size === 0) return rows;
  const offline = new Set(
    (
      await deps.db
        .select({ id: servers.id })
        .from(servers)
        .where(and(inArray(servers.id, [...byServer.keys()]), eq(servers.status, "offline")))
    ).map((server) => server.id),
  );
  const updated = new Map<string, InstanceRow>();
  await Promise.all(
    [...byServer].map(async ([serverId, serverRows]) => {
      if (offline.has(serverId)) return;
      let inspected: Awaited<ReturnType<typeof inspect>>;
      try {
        inspected = await inspect(deps, serverId, serverRows);
      } catch (error) {
        deps.logger.debug(
          { err: error, serverId },
          "instance states not refreshed: the agent did not answer",
        );
        return;
      }
      for (const row of serverRows) {
        const status = inspected.instances.find((entry) => entry.instanceId === row.id);
        const derived = deriveInstanceState(status, row.desiredState);
        if (derived.state === row.state && derived.message === row.stateMessage) continue;
        if (keepsStoredState(row, derived)) continue;
        const [after] = await deps.db
          .update(instances)
          .set({ state: derived.state, stateMessage: derived.message, updatedAt: deps.now() })
          .where(and(eq(instances.id, row.id), eq(instances.state, row.state)))
          .returning();
        if (after) updated.set(row.id, after);
      }
    }),
  );
  return rows.map((row) => updated.get(row.id) ?? row);
}

function inspect(deps: InstanceDeps, serverId: string, rows: InstanceRow[]) {
  return deps.runner.run({
    serverId,
    input: InstanceInspectSchema,
    args: { instanceIds: rows.map((row) => row.id) },
    output: InstanceInspectedSchema,
    deadline: deadlineIn(deps, deps.timing.inspectMs),
    actor: systemActor,
    audit: false, // an observation, not a change: no audit entry per Get/List
  });
}
