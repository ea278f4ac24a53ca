import { eq } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { roleBindings, type users } from "../../platform/db/schema/users.js";
import type { Grant, Principal } from "../auth/principal.js";
import { parseSelector } from "../auth/selector.js";
import { getRolePermissions } from "./roles.js";

type UserRow = typeof users.$inferSelect;

/** A user's principal: its role bindings, each role's permissions, each binding's selector. */
export async function userPrincipal(db: Db, user: UserRow, sessionId?: string): Promise<Principal> {
  const bindings = await db.select().from(roleBindings).where(eq(roleBindings.userId, user.id));
  const rolePermissions = await getRolePermissions(
    db,
    bindings.map((binding) => binding.role),
  );
  const grants: Grant[] = bindings.map((binding) => ({
    permissions: new Set(rolePermissions.get(binding.role) ?? []),
    selector: binding.selector ? parseSelector(binding.selector) : undefined,
    sshLogins: binding.sshLogins,
  }));
  return {
    kind: "user",
    id: user.id,
    name: user.username,
    mustChangePassword: user.mustChangePassword,
    sessionId,
    grants,
  };
}
