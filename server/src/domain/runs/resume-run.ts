import { eq } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { commandRuns } from "../../platform/db/schema/templates.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";

/**
 * Resumes a run paused after its successful canary: the next wave opens and the dispatcher (told
 * the run's id by the caller) starts its hosts; audited `run.resume`. Only a paused run resumes
 * (a canary that failed stopped the run for good: re-run it instead).
 */
export async function resumeRun(
  db: Db,
  context: AuditContext,
  input: { readonly runId: string; readonly note: string },
  now: Date,
): Promise<void> {
  AppError.requireId(input.runId);
  const note = input.note.trim();
  if (note.length > 500) throw AppError.invalid("note", "must be at most 500 characters");
  await db.transaction(async (tx) => {
    const [run] = await tx.select().from(commandRuns).where(eq(commandRuns.id, input.runId)).for("update");
    if (!run) throw AppError.notFound(`run ${input.runId}`);
    if (run.state !== "paused") {
      throw new AppError(
        "failed_precondition",
        `run ${input.runId} is ${run.state}; only a run paused after its canary can be resumed`,
      );
    }
    await tx
      .update(commandRuns)
      .set({ state: "running", wave: run.wave + 1, stopReason: "" })
      .where(eq(commandRuns.id, input.runId));
    await recordAudit(
      tx,
      context,
      {
        action: "run.resume",
        targetType: "run",
        targetId: input.runId,
        before: { state: "paused", wave: run.wave + 1 },
        after: { state: "running", wave: run.wave + 2, note },
      },
      now,
    );
  });
}
