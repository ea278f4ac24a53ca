import { eq } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { users } from "../../platform/db/schema/users.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { checkNewPassword, hashPassword, verifyPassword } from "../auth/passwords.js";
import { createSession, type NewSession } from "../auth/sessions.js";
import { revokeAllSessions } from "../users/revoke-sessions.js";

/** Replaces the caller's password, ends every session of the user and starts a fresh one. */
export async function changePassword(
  db: Db,
  context: AuditContext,
  input: { userId: string; currentPassword: string; newPassword: string },
  now: Date,
): Promise<NewSession> {
  const [user] = await db.select().from(users).where(eq(users.id, input.userId));
  if (!user) throw new AppError("unauthenticated", "the session has ended; sign in again");
  if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
    throw AppError.invalid("currentPassword", "is not your current password");
  }
  checkNewPassword(input.newPassword);
  if (input.newPassword === input.currentPassword) {
    throw AppError.invalid("newPassword", "must differ from the current password");
  }
  const passwordHash = await hashPassword(input.newPassword);
  return db.transaction(async (tx) => {
    await tx
      .update(users)
      .set({ passwordHash, mustChangePassword: false, passwordChangedAt: now })
      .where(eq(users.id, user.id));
    await revokeAllSessions(tx, user.id);
    const session = await createSession(tx, user.id, context, now);
    await recordAudit(
      tx,
      context,
      { action: "auth.change_password", targetType: "user", targetId: user.id },
      now,
    );
    return session;
  });
}
