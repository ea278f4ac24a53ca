import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { sshSessions } from "../../platform/db/schema/ssh-sessions.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import type { Scope } from "../auth/principal.js";
import { getSession } from "./get-session.js";
import type { LiveSessions } from "./live-sessions.js";

/**
 * Ends a live session for an administrator. The request is stored on the session's row (with
 * the audit entry, in one transaction), so the replica that holds the session ends it at its
 * recorder's next heartbeat; when this process holds it, it ends now.
 */
export async function endSession(
  db: Db,
  live: LiveSessions,
  context: AuditContext,
  input: { readonly id: string; readonly scope: Scope },
): Promise<{ endedHere: boolean }> {
  const session = await getSession(db, { id: input.id, scope: input.scope });
  if (!session.live) {
    throw new AppError(
      "failed_precondition",
      `session ${input.id} is not open (it ended or its replica stopped)`,
    );
  }
  const by = context.actor.name;
  await db.transaction(async (tx) => {
    const [updated] = await tx
      .update(sshSessions)
      .set({ endRequestedBy: by })
      .where(and(eq(sshSessions.id, input.id), isNull(sshSessions.endedAt)))
      .returning({ id: sshSessions.id });
    if (!updated) throw new AppError("failed_precondition", `session ${input.id} has just ended`);
    await recordAudit(tx, context, {
      action: "ssh.session.end",
      targetType: "server",
      targetId: session.serverId ?? "",
      detail: `ended session ${session.id} of ${session.username} on ${session.serverName} as ${session.login}`,
    });
  });
  return { endedHere: live.terminate(input.id, `The session was ended by ${by}.`) };
}
