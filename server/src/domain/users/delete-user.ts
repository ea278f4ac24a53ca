import { eq } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { users } from "../../platform/db/schema/users.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { getUserView } from "./user-queries.js";
import { assertAnOwnerRemains } from "./user-rules.js";

export async function deleteUser(db: Db, context: AuditContext, id: string): Promise<void> {
  if (context.actor.type === "user" && context.actor.id === id) {
    throw new AppError("failed_precondition", "you cannot delete your own account");
  }
  await db.transaction(async (tx) => {
    const before = await getUserView(tx, id);
    await tx.delete(users).where(eq(users.id, id));
    await assertAnOwnerRemains(tx);
    await recordAudit(tx, context, { action: "user.delete", targetType: "user", targetId: id, before });
  });
}
