import { asc } from "drizzle-orm";
import { roleBindings, users } from "../../platform/db/schema/users.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { AppError } from "../../platform/errors/app-error.js";

export interface BindingInput {
  readonly role: string;
  readonly selector: string;
  /** Host accounts the SSH gateway may log in as ("*": any); empty: the server's own SSH user. */
  readonly sshLogins?: readonly string[];
}

export interface UserView {
  readonly id: string;
  readonly username: string;
  readonly roleBindings: BindingInput[];
  readonly disabled: boolean;
  readonly mustChangePassword: boolean;
  readonly lockedUntil: Date | null;
  readonly createdAt: Date;
}

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

export async function getUserView(db: Queryable, id: string): Promise<UserView> {
  AppError.requireId(id);
  const view = (await listUsers(db)).find((user) => user.id === id);
  if (!view) throw AppError.notFound("the user");
  return view;
}
