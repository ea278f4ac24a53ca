import type { Db } from "../../platform/db/database.js";
import { roleBindings, users } from "../../platform/db/schema/users.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { hashPassword } from "../auth/passwords.js";
import { oneTimePassword } from "../auth/secrets.js";
import { type BindingInput, getUserView, type UserView } from "./user-queries.js";
import { bindingRow, checkBindings } from "./user-rules.js";

/** Creates a user with a one-time password (returned once, to be changed at first login). */
export async function createUser(
  db: Db,
  context: AuditContext,
  input: { username: string; roleBindings: BindingInput[] },
): Promise<{ user: UserView; oneTimePassword: string }> {
  if (!/^[a-z0-9][a-z0-9._-]{1,62}[a-z0-9]$/.test(input.username)) {
    throw AppError.invalid("username", "must be 3-64 characters of a-z, 0-9, '.', '_' and '-'");
  }
  if (input.roleBindings.length === 0) throw AppError.invalid("roleBindings", "grant at least one role");
  await checkBindings(db, input.roleBindings);
  const password = oneTimePassword();
  const passwordHash = await hashPassword(password);
  const user = await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(users)
      .values({ username: input.username, passwordHash, mustChangePassword: true })
      .onConflictDoNothing()
      .returning();
    if (!row) throw new AppError("already_exists", `a user named "${input.username}" exists`);
    await tx.insert(roleBindings).values(input.roleBindings.map((binding) => bindingRow(binding, row.id)));
    const view = await getUserView(tx, row.id);
    await recordAudit(tx, context, {
      action: "user.create",
      targetType: "user",
      targetId: row.id,
      after: view,
    });
    return view;
  });
  return { user, oneTimePassword: password };
}
