import { and, asc, eq, ne } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { roleBindings, sessions, users } from "../../platform/db/schema/users.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { hashPassword } from "../auth/passwords.js";
import { oneTimePassword } from "../auth/secrets.js";
import { parseSelector } from "../auth/selector.js";
import { getRolePermissions } from "./roles.js";

export interface BindingInput {
  readonly role: string;
  readonly selector: string;
  /** Host accounts the SSH gateway may log in as ("*": any); empty: the server's own SSH user. */
  readonly sshLogins?: readonly string[];
}

/** A host login name as Linux allows it, or "*" for any. */
const LOGIN = /^(\*|[a-z_][a-z0-9_.-]{0,31})$/;

export interface UserView {
  readonly id: string;
  readonly username: string;
  readonly roleBindings: BindingInput[];
  readonly disabled: boolean;
  readonly mustChangePassword: boolean;
  readonly lockedUntil: Date | null;
  readonly createdAt: Date;
}

const bindingRow = (binding: BindingInput, userId: string) => ({
  role: binding.role,
  selector: binding.selector,
  sshLogins: [...new Set(binding.sshLogins ?? [])],
  userId,
});

export async function listUsers(db: Queryable): Promise<UserView[]> {
  const rows = await db.select().from(users).orderBy(asc(users.username));
  const bindings = await db.select().from(roleBindings);
  return rows.map((user) => ({
    id: user.id,
    username: user.username,
    roleBindings: bindings
      .filter((binding) => binding.userId === user.id)
      .map(({ role, selector, sshLogins }) => ({ role, selector, sshLogins })),
    disabled: user.disabled,
    mustChangePassword: user.mustChangePassword,
    lockedUntil: user.lockedUntil,
    createdAt: user.createdAt,
  }));
}

async function getUserView(db: Queryable, id: string): Promise<UserView> {
  AppError.requireId(id);
  const view = (await listUsers(db)).find((user) => user.id === id);
  if (!view) throw AppError.notFound("the user");
  return view;
}

async function checkBindings(db: Queryable, bindings: readonly BindingInput[]): Promise<void> {
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

export async function revokeAllSessions(
  db: Queryable,
  userId: string,
  exceptSessionId?: string,
): Promise<void> {
  await db
    .update(sessions)
    .set({ revokedAt: new Date() })
    .where(and(eq(sessions.userId, userId), exceptSessionId ? ne(sessions.id, exceptSessionId) : undefined));
}

async function assertAnOwnerRemains(db: Queryable): Promise<void> {
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
