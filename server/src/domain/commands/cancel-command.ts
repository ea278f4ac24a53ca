import { eq } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { commands } from "../../platform/db/schema/commands.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { finishCommand, isFinal } from "./command-records.js";

/**
 * Cancels a command in the database: a queued one, or one whose agent is not connected here, ends
 * `cancelled` at once; a sent one on a live stream is left for its agent to stop (`viaAgent`).
 * Audited unless `audit` is null. The caller then signals the agent or the other replicas.
 */
export async function cancelCommand(
  db: Db,
  input: {
    readonly commandId: string;
    readonly why: string;
    readonly audit: AuditContext | null;
    readonly now: () => Date;
    /** Whether a server's agent has a live stream on this replica. */
    readonly hasLiveStream: (serverId: string) => boolean;
  },
): Promise<{ serverId: string; viaAgent: boolean; elsewhere: boolean }> {
  const { commandId, why, audit, now, hasLiveStream } = input;
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(commands).where(eq(commands.id, commandId)).for("update");
    if (!row) throw AppError.notFound(`command ${commandId}`);
    if (isFinal(row.state)) {
      throw new AppError(
        "failed_precondition",
        `command ${commandId} already ended (${row.state}); there is nothing to cancel`,
      );
    }
    const viaAgent = row.state !== "queued" && hasLiveStream(row.serverId);
    if (!viaAgent) {
      const message =
        row.state === "queued"
          ? `cancelled before it was sent${why ? `: ${why}` : ""}`
          : `cancelled while the agent was offline${why ? `: ${why}` : ""}; if it had started it may still be running on the host`;
      await finishCommand(tx, commandId, {
        state: "cancelled",
        errorCode: "cancelled",
        errorMessage: message,
        finishedAt: now(),
      });
    }
    if (audit) {
      await recordAudit(
        tx,
        audit,
        {
          action: "command.cancel",
          targetType: "command",
          targetId: commandId,
          before: { state: row.state },
          after: { state: viaAgent ? "cancelling" : "cancelled", reason: why },
        },
        now(),
      );
    }
    return { serverId: row.serverId, viaAgent, elsewhere: !viaAgent && row.state !== "queued" };
  });
}
