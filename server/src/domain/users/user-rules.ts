import { and, eq } from "drizzle-orm";
import { roleBindings, users } from "../../platform/db/schema/users.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { AppError } from "../../platform/errors/app-error.js";
import { parseSelector } from "../auth/selector.js";
import { getRolePermissions } from "./roles.js";
import type { BindingInput } from "./user-queries.js";

/** A host login name as Linux allows it, or "*" for any. */
const LOGIN = /^(\*|[a-z_][a-z0-9_.-]{0,31})$/;

/** A binding as stored: its logins without duplicates. */
export const bindingRow = (binding: BindingInput, userId: string) => ({
  role: binding.role,
  selector: binding.selector,
  sshLogins: [...new Set(binding.sshLogins ?? [])],
  userId,
});

export async function checkBindings(db: Queryable, bindings: readonly BindingInput[]): Promise<void> {
  const known = await getRolePermissions(
    db,
    bindings.map((binding) => binding.role),
  );
  bindings.forEach((binding, index) => {
    if (!known.has(binding.role))
      throw AppError.invalid(`roleBindings[${index}].role`, `no role "${binding.role}"`);
    parseSelector(binding.selector, `role_bindings[${index}].selector`);
    const logins = binding.sshLogins ?? [];
    if (logins.length > 50) throw AppError.invalid(`roleBindings[${index}].sshLogins`, "at most 50 logins");
    for (const login of logins) {
      if (!LOGIN.test(login)) {
        throw AppError.invalid(
          `roleBindings[${index}].sshLogins`,
          `"${login.slice(0, 40)}" is not a login name (a-z, 0-9, '_', '.', '-', at most 32, or "*" for any)`,
        );
      }
    }
  });
}

export async function assertAnOwnerRemains(db: Queryable): Promise<void> {
  const owners = await db
    .select({ id: users.id })
    .from(roleBindings)
    .innerJoin(users, eq(users.id, roleBindings.userId))
    .where(and(eq(roleBindings.role, "owner"), eq(roleBindings.selector, ""), eq(users.disabled, false)))
    .limit(1);
  if (owners.length === 0) {
    throw new AppError(
      "failed_precondition",
      "this would leave no enabled owner; grant the owner role to someone else first",
    );
  }
}
