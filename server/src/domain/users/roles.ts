import { asc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { apiTokens, roleBindings, roles } from "../../platform/db/schema/users.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { builtinRoles, isPermission, type Permission, permissions } from "../auth/permissions.js";

export type RoleRow = typeof roles.$inferSelect;

/** Writes the built-in roles as this version defines them (run at every start). */
export async function ensureBuiltinRoles(db: Queryable): Promise<void> {
  for (const role of builtinRoles) {
    await db
      .insert(roles)
      .values({
        name: role.name,
        description: role.description,
        permissions: [...role.permissions],
        builtin: true,
      })
      .onConflictDoUpdate({
        target: roles.name,
        set: { description: role.description, permissions: [...role.permissions], builtin: true },
      });
  }
}

export function listRoles(db: Db): Promise<RoleRow[]> {
  return db.select().from(roles).orderBy(sql`${roles.builtin} desc`, asc(roles.name));
}

export async function getRolePermissions(
  db: Queryable,
  names: readonly string[],
): Promise<Map<string, Permission[]>> {
  if (names.length === 0) return new Map();
  const rows = await db
    .select()
    .from(roles)
    .where(inArray(roles.name, [...names]));
  return new Map(rows.map((row) => [row.name, row.permissions.filter(isPermission)]));
}

export async function createRole(
  db: Db,
  context: AuditContext,
  input: { name: string; permissions: string[]; description: string },
): Promise<RoleRow> {
  if (!/^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/.test(input.name)) {
    throw AppError.invalid(
      "name",
      "must be 3-64 characters of a-z, 0-9 and -, not starting or ending with -",
    );
  }
  if (builtinRoles.some((role) => role.name === input.name)) {
    throw AppError.invalid("name", `"${input.name}" is a built-in role`);
  }
  if (input.permissions.length === 0)
    throw AppError.invalid("permissions", "a role needs at least one permission");
  const unknown = input.permissions.filter((permission) => !isPermission(permission));
  if (unknown.length > 0) {
    throw AppError.invalid("permissions", `unknown: ${unknown.join(", ")}; known: ${permissions.join(", ")}`);
  }
  const row = {
    name: input.name,
    description: input.description.slice(0, 500),
    permissions: [...new Set(input.permissions)],
    builtin: false,
  };
  return db.transaction(async (tx) => {
    const inserted = await tx.insert(roles).values(row).onConflictDoNothing().returning();
    if (inserted.length === 0) throw new AppError("already_exists", `a role named "${input.name}" exists`);
    await recordAudit(tx, context, {
      action: "role.create",
      targetType: "role",
      targetId: input.name,
      after: row,
    });
    return inserted[0] as RoleRow;
  });
}

export async function deleteRole(db: Db, context: AuditContext, name: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [role] = await tx.select().from(roles).where(eq(roles.name, name));
    if (!role) throw AppError.notFound(`role "${name}"`);
    if (role.builtin)
      throw new AppError("failed_precondition", `"${name}" is a built-in role and cannot be deleted`);
    const [binding] = await tx
      .select({ id: roleBindings.id })
      .from(roleBindings)
      .where(eq(roleBindings.role, name))
      .limit(1);
    const [token] = await tx
      .select({ id: apiTokens.id })
      .from(apiTokens)
      .where(eq(apiTokens.role, name))
      .limit(1);
    if (binding || token) {
      throw new AppError(
        "failed_precondition",
        `role "${name}" is still granted; remove its bindings and tokens first`,
      );
    }
    await tx.delete(roles).where(eq(roles.name, name));
    await recordAudit(tx, context, {
      action: "role.delete",
      targetType: "role",
      targetId: name,
      before: role,
    });
  });
}
