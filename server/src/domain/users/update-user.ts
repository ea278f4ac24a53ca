import { eq } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { roleBindings, users } from "../../platform/db/schema/users.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { revokeAllSessions } from "./revoke-sessions.js";
import { type BindingInput, getUserView, type UserView } from "./user-queries.js";
import { assertAnOwnerRemains, bindingRow, checkBindings } from "./user-rules.js";

export async function updateUser(
  db: Db,
  context: AuditContext,
  input: { id: string; roleBindings?: BindingInput[]; disabled?: boolean },
): Promise<UserView> {
  if (input.roleBindings) await checkBindings(db, input.roleBindings);
  return db.transaction(async (tx) => {
    const before = await getUserView(tx, input.id);
    if (input.roleBindings) {
      await tx.delete(roleBindings).where(eq(roleBindings.userId, input.id));
      if (input.roleBindings.length > 0) {
        await tx
          .insert(roleBindings)
          .values(input.roleBindings.map((binding) => bindingRow(binding, input.id)));
      }
    }
    if (input.disabled !== undefined) {
      await tx.update(users).set({ disabled: input.disabled }).where(eq(users.id, input.id));
      if (input.disabled) await revokeAllSessions(tx, input.id);
    }
    await assertAnOwnerRemains(tx);
    const after = await getUserView(tx, input.id);
    await recordAudit(tx, context, {
      action: "user.update",
      targetType: "user",
      targetId: input.id,
      before,
      after,
    });
    return after;
  });
}
