import { eq } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { users } from "../../platform/db/schema/users.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import type { LoginLimiter } from "./login-limiter.js";
import { decoyPasswordHash, verifyPassword } from "./passwords.js";
import { createSession, type NewSession } from "./sessions.js";

export const MAX_FAILED_LOGINS = 5;
export const LOCKOUT_MS = 15 * 60_000;

export interface LoginDeps {
  readonly db: Db;
  readonly limiter: LoginLimiter;
  readonly now: () => Date;
}

const refused = () => new AppError("unauthenticated", "wrong username or password");

/**
 * Checks the credentials and starts a session. Every attempt is audited; failures count towards
 * the account's lockout and the source's rate limit. The answer never says whether a username exists.
 */
export async function login(
  deps: LoginDeps,
  context: AuditContext,
  input: { username: string; password: string },
): Promise<NewSession> {
  const user = await checkPasswordLogin(deps, context, input);
  const now = deps.now();
  return deps.db.transaction(async (tx) => {
    await tx.update(users).set({ failedLogins: 0, lockedUntil: null }).where(eq(users.id, user.id));
    const session = await createSession(tx, user.id, context, now);
    const actor = { ...context, actor: { type: "user" as const, id: user.id, name: user.username } };
    await recordAudit(tx, actor, { action: "auth.login", targetType: "user", targetId: user.id }, now);
    return session;
  });
}

/**
 * The password check of a sign-in, without starting a session (the web sign-in and the SSH
 * gateway share it): the source's rate limit, the account's lockout, a disabled account. Every
 * refusal is audited and counted; the caller records the success (and resets the counter).
 */
export async function checkPasswordLogin(
  deps: LoginDeps,
  context: AuditContext,
  input: { username: string; password: string },
): Promise<typeof users.$inferSelect> {
  const now = deps.now();
  const source = context.sourceIp || "unknown";
  const wait = deps.limiter.retryAfterMs(source, now.getTime());
  if (wait > 0) {
    await audit(deps.db, context, input.username, "", "denied", "too many failed logins from this address");
    throw new AppError(
      "resource_exhausted",
      `too many failed logins from this address; try again in ${Math.ceil(wait / 60_000)} min`,
    );
  }
  const [user] = await deps.db.select().from(users).where(eq(users.username, input.username));
  const passwordOk = await verifyPassword(user?.passwordHash ?? (await decoyPasswordHash()), input.password);

  if (!user) {
    deps.limiter.recordFailure(source, now.getTime());
    await audit(deps.db, context, input.username, "", "failure", "unknown username");
    throw refused();
  }
  if (user.lockedUntil && user.lockedUntil > now) {
    await audit(deps.db, context, user.username, user.id, "denied", "account locked");
    throw new AppError(
      "resource_exhausted",
      `the account is locked after repeated failed logins until ${user.lockedUntil.toISOString()}; an admin can reset its password`,
    );
  }
  if (!passwordOk) {
    deps.limiter.recordFailure(source, now.getTime());
    const failed = user.failedLogins + 1;
    const lockedUntil = failed >= MAX_FAILED_LOGINS ? new Date(now.getTime() + LOCKOUT_MS) : null;
    await deps.db.transaction(async (tx) => {
      await tx
        .update(users)
        .set({ failedLogins: lockedUntil ? 0 : failed, lockedUntil })
        .where(eq(users.id, user.id));
      await recordAudit(
        tx,
        context,
        {
          action: "auth.login",
          targetType: "user",
          targetId: user.id,
          result: "failure",
          detail: lockedUntil
            ? `wrong password; account locked until ${lockedUntil.toISOString()}`
            : "wrong password",
        },
        now,
      );
    });
    throw refused();
  }
  if (user.disabled) {
    await audit(deps.db, context, user.username, user.id, "denied", "account disabled");
    throw new AppError("permission_denied", "this account is disabled; ask an admin");
  }
  return user;
}

async function audit(
  db: Db,
  context: AuditContext,
  username: string,
  userId: string,
  result: "failure" | "denied",
  detail: string,
): Promise<void> {
  await db.transaction((tx) =>
    recordAudit(tx, context, {
      action: "auth.login",
      targetType: "user",
      targetId: userId || username.slice(0, 64),
      result,
      detail,
    }),
  );
}
