import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { roleBindings, users } from "../../platform/db/schema/users.js";
import { systemContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { hashPassword } from "../auth/passwords.js";
import { oneTimePassword } from "../auth/secrets.js";

export const FIRST_ADMIN = "admin";

/**
 * On the first start against an empty database, creates the first owner with a random one-time
 * password and returns it (to be shown once). There is no default password anywhere.
 * Returns undefined when users already exist.
 */
export async function ensureFirstAdmin(db: Db): Promise<{ username: string; password: string } | undefined> {
  const [anyUser] = await db.select({ id: users.id }).from(users).limit(1);
  if (anyUser) return undefined; // the usual case: skip the deliberately slow hash below
  const password = oneTimePassword();
  const passwordHash = await hashPassword(password);
  return db.transaction(async (tx) => {
    // Two replicas starting together on an empty database must not both create one.
    await tx.execute(sql`select pg_advisory_xact_lock(${0x61646d6e})`);
    const [existing] = await tx.select({ id: users.id }).from(users).limit(1);
    if (existing) return undefined;
    const [user] = await tx
      .insert(users)
      .values({ username: FIRST_ADMIN, passwordHash, mustChangePassword: true })
      .returning();
    if (!user) throw new Error("the first admin was not created");
    await tx.insert(roleBindings).values({ userId: user.id, role: "owner", selector: "" });
    await recordAudit(tx, systemContext(), {
      action: "user.create",
      targetType: "user",
      targetId: user.id,
      after: { username: FIRST_ADMIN, roleBindings: [{ role: "owner", selector: "" }], firstAdmin: true },
    });
    return { username: FIRST_ADMIN, password };
  });
}
