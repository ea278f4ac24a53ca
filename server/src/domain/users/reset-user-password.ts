import { eq } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { users } from "../../platform/db/schema/users.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { hashPassword } from "../auth/passwords.js";
import { oneTimePassword } from "../auth/secrets.js";
import { revokeAllSessions } from "./revoke-sessions.js";

export async function resetUserPassword(db: Db, context: AuditContext, id: string): Promise<string> {
  AppError.requireId(id);
  const password = oneTimePassword();
  const passwordHash = await hashPassword(password);
  await db.transaction(async (tx) => {
    const updated = await tx
      .update(users)
      .set({
        passwordHash,
        mustChangePassword: true,
        failedLogins: 0,
        lockedUntil: null,
        passwordChangedAt: new Date(),
      })
      .where(eq(users.id, id))
      .returning({ id: users.id });
    if (updated.length === 0) throw AppError.notFound("the user");
    await revokeAllSessions(tx, id);
    await recordAudit(tx, context, { action: "user.reset_password", targetType: "user", targetId: id });
  });
  return password;
}
