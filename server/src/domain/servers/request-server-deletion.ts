import { and, eq, inArray } from "drizzle-orm";
import { instances, LIVE_INSTANCE_STATES } from "../../platform/db/schema/instances.js";
import { servers } from "../../platform/db/schema/servers.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { enqueueJob } from "../provisioning/job-store.js";
import type { LifecycleDeps } from "./lifecycle-deps.js";
import { getServer, type ServerRow } from "./servers.js";

/**
 * Starts removing a server: status `removing` at once, the worker uninstalls the agent and
 * deletes the records. Refused while instances run, unless forced (their records go too; their
 * containers stay on the host).
 */
export async function requestServerDeletion(
  deps: LifecycleDeps,
  context: AuditContext,
  input: { readonly id: string; readonly force: boolean },
): Promise<ServerRow> {
  AppError.requireId(input.id);
  const now = deps.now();
  const row = await deps.db.transaction(async (tx) => {
    const before = await getServer(tx, input.id);
    const live = await tx
      .select({ name: instances.name })
      .from(instances)
      .where(and(eq(instances.serverId, input.id), inArray(instances.state, [...LIVE_INSTANCE_STATES])));
    if (live.length > 0 && !input.force) {
      throw new AppError(
        "failed_precondition",
        `${live.length} instance(s) run on this server (${live
          .map((i) => i.name)
          .slice(0, 5)
          .join(
            ", ",
          )}): stop or move them first, or delete with force (their records are deleted, their containers stay on the host)`,
      );
    }
    await enqueueJob(tx, { serverId: input.id, kind: "remove", step: "uninstall", now, force: input.force });
    const [after] = await tx
      .update(servers)
      .set({ status: "removing", statusReason: null, statusMessage: null, updatedAt: now })
      .where(eq(servers.id, input.id))
      .returning();
    await recordAudit(
      tx,
      context,
      {
        action: "server.delete",
        targetType: "server",
        targetId: input.id,
        before,
        after,
        detail: input.force ? "forced" : undefined,
      },
      now,
    );
    return after ?? before;
  });
  deps.onJobQueued();
  return row;
}
