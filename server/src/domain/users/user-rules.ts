import { and, eq } from "drizzle-orm";
import { roleBindings, users } from "../../platform/db/schema/users.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { AppError } from "../../platform/errors/app-error.js";
import { parseSelector } from "../auth/selector.js";
import { getRolePermissions } from "./roles.js";
import type { BindingInput } from "./user-queries.js";

export async function checkBindings(db: Queryable, bindings: readonly BindingInput[]): Promise<void> {
  const known = await getRolePermissions(
    db,
    bindings.map((binding) => binding.role),
  );
  bindings.forEach((binding, index) => {
    if (!known.has(binding.role))
      throw AppError.invalid(`roleBindings[${index}].role`, `no role "${binding.role}"`);
    parseSelector(binding.selector, `role_bindings[${index}].selector`);
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
