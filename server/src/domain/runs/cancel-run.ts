import { and, eq, isNotNull } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { commandRunHosts, commandRuns } from "../../platform/db/schema/templates.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { commandActorOf } from "../commands/command-runner.js";
import type { CommandService } from "../commands/command-service.js";

/**
 * Cancels a running or paused run: pending hosts never start (`cancelled`), running ones are signalled through
 * their agents (their unit or process group is stopped); audited `run.cancel`. The dispatcher
 * ends the run once the running hosts reported.
 */
export async function cancelRun(
  db: Db,
  commands: CommandService,
  context: AuditContext,
  input: { readonly runId: string; readonly reason: string },
  now: Date,
): Promise<void> {
  AppError.requireId(input.runId);
  const reason = input.reason.trim();
  if (reason.length > 500) throw AppError.invalid("reason", "must be at most 500 characters");
  const running = await db.transaction(async (tx) => {
    const [run] = await tx.select().from(commandRuns).where(eq(commandRuns.id, input.runId)).for("update");
    if (!run) throw AppError.notFound(`run ${input.runId}`);
    if (run.finishedAt || (run.state !== "running" && run.state !== "paused")) {
      throw new AppError(
        "failed_precondition",
        `run ${input.runId} is ${run.state}; there is nothing to cancel`,
      );
    }
    const why = `cancelled by ${context.actor.name}${reason ? `: ${reason}` : ""}`;
    await tx
      .update(commandRuns)
      .set({ state: "cancelled", stopReason: why })
      .where(eq(commandRuns.id, input.runId));
    await tx
      .update(commandRunHosts)
      .set({ state: "cancelled", reason: `not started: the run was ${why}`, finishedAt: now })
      .where(and(eq(commandRunHosts.runId, input.runId), eq(commandRunHosts.state, "pending")));
    await recordAudit(
      tx,
      context,
      { action: "run.cancel", targetType: "run", targetId: input.runId, after: { reason } },
      now,
    );
    return tx
      .select({ commandId: commandRunHosts.commandId })
      .from(commandRunHosts)
      .where(
        and(
          eq(commandRunHosts.runId, input.runId),
          eq(commandRunHosts.state, "running"),
          isNotNull(commandRunHosts.commandId),
        ),
      );
  });
  for (const { commandId } of running) {
    await commands
      .cancel(commandId as string, commandActorOf(context), reason || "the run was cancelled", null)
      .catch(() => {}); // it may have ended meanwhile: its outcome is recorded as it is
  }
}
