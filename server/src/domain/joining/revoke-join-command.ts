import { eq } from "drizzle-orm";
import { isUuid } from "../../platform/db/is-uuid.js";
import { enrollmentTokens } from "../../platform/db/schema/agent-identity.js";
import { joinCommands } from "../../platform/db/schema/join-commands.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { findJoinById, type JoinView } from "./find-join-command.js";
import type { JoinDeps } from "./join-deps.js";

/**
 * Makes an unused join command stop working at once: the join URL refuses it and its enrollment
 * token expires now (so a script already downloaded cannot enroll either). A used one has done
 * its work; revoking it is refused so the list keeps saying what happened.
 */
export async function revokeJoinCommand(
  deps: Pick<JoinDeps, "db" | "now">,
  context: AuditContext,
  id: string,
): Promise<JoinView> {
  if (!isUuid(id)) throw AppError.invalid("id", "must be a join command's id (a UUID)");
  const now = deps.now();
  await deps.db.transaction(async (tx) => {
    const join = await findJoinById(tx, id, now);
    if (!join) throw new AppError("not_found", `join command ${id} does not exist`);
    if (join.state === "used") {
      throw new AppError(
        "failed_precondition",
        `join command ${id} was already used: the host joined; remove the server to undo that`,
      );
    }
    if (join.state === "revoked") return;
    const [row] = await tx
      .update(joinCommands)
      .set({ revokedAt: now })
      .where(eq(joinCommands.id, id))
      .returning({ tokenId: joinCommands.enrollmentTokenId });
    if (row) {
      await tx.update(enrollmentTokens).set({ expiresAt: now }).where(eq(enrollmentTokens.id, row.tokenId));
    }
    await recordAudit(
      tx,
      context,
      {
        action: "server.join_command.revoke",
        targetType: "server",
        targetId: join.serverId,
        after: { joinCommandId: id },
      },
      now,
    );
  });
  const revoked = await findJoinById(deps.db, id, now);
  if (!revoked) throw new AppError("not_found", `join command ${id} does not exist`);
  return revoked;
}
