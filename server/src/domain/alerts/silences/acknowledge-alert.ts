import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../../../platform/db/database.js";
import { alertAcknowledgements } from "../../../platform/db/schema/alert-notify.js";
import { alerts } from "../../../platform/db/schema/alerts.js";
import { AppError } from "../../../platform/errors/app-error.js";
import type { AuditContext } from "../../audit/audit-context.js";
import { recordAudit } from "../../audit/record-audit.js";
import { parseInput } from "../parse-input.js";

export type AcknowledgementRow = typeof alertAcknowledgements.$inferSelect;

const commentSchema = z.string().trim().max(1000, "is longer than 1000 characters");

/**
 * Acknowledges a firing alert's current episode: someone is on it, so it is not told again at
 * the repeat interval (its resolution still is). Acknowledging again replaces the comment.
 * Audited.
 */
export async function acknowledgeAlert(
  db: Db,
  context: AuditContext,
  input: { readonly alertId: string; readonly comment: string },
  now: Date,
): Promise<AcknowledgementRow> {
  AppError.requireId(input.alertId, "id");
  const comment = parseInput(commentSchema, input.comment, "comment");
  return db.transaction(async (tx) => {
    const [alert] = await tx.select().from(alerts).where(eq(alerts.id, input.alertId));
    if (!alert) throw AppError.notFound("the alert");
    if (alert.state !== "firing" && alert.state !== "unreachable") {
      throw new AppError(
        "failed_precondition",
        `the alert is ${alert.state}, not firing: nothing to acknowledge`,
      );
    }
    const values = { episode: alert.episode, by: context.actor.name, comment, at: now };
    const [row] = await tx
      .insert(alertAcknowledgements)
      .values({ alertId: alert.id, ...values })
      .onConflictDoUpdate({ target: alertAcknowledgements.alertId, set: values })
      .returning();
    if (!row) throw new Error("upsert returned no row");
    await recordAudit(
      tx,
      context,
      {
        action: "alert.acknowledge",
        targetType: "alert",
        targetId: alert.id,
        after: { serverId: alert.serverId, rule: alert.ruleName, episode: alert.episode, comment },
      },
      now,
    );
    return row;
  });
}
