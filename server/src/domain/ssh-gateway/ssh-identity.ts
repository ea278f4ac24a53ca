import { eq } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { apiTokens, users } from "../../platform/db/schema/users.js";
import { AppError } from "../../platform/errors/app-error.js";
import { API_TOKEN_PREFIX, findLiveApiToken } from "../api-tokens/api-tokens.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import type { AccessTokens } from "../auth/access-tokens.js";
import { checkPasswordLogin, type LoginDeps } from "../auth/login.js";
import type { Principal } from "../auth/principal.js";
import { parseSelector } from "../auth/selector.js";
import { isSessionLive } from "../auth/sessions.js";
import { findUserBySshKey, markSshKeyUsed } from "../ssh-keys/user-ssh-keys.js";
import { userPrincipal } from "../users/load-principal.js";
import { getRolePermissions } from "../users/roles.js";

/** Who opened an SSH gateway connection, and with what (checked again while it stays open). */
export interface SshIdentity {
  readonly principal: Principal;
  readonly method: "publickey" | "password" | "api_token" | "access_token" | "console";
  /** The user; for an API token, its id. */
  readonly userId: string;
  /** The user its sessions are recorded under: the user, or the API token's creator ("" when gone). */
  readonly recordAs: string;
  /** The sign-in session an access token or the console terminal belongs to (ends the connection when it ends). */
  readonly sessionId?: string;
}

export interface SshIdentityDeps extends LoginDeps {
  readonly accessTokens: AccessTokens;
}

const mustChange = () =>
  new AppError(
    "failed_precondition",
    "your one-time password must be changed first: sign in to the console once, then connect again",
  );

/** A user by a registered public key; the SSH username's user part must be the key's owner. */
export async function identifyByKey(
  deps: SshIdentityDeps,
  context: AuditContext,
  username: string,
  fingerprint: string,
): Promise<SshIdentity | undefined> {
  const found = await findUserBySshKey(deps.db, fingerprint);
  if (!found || found.user.username !== username) return undefined;
  if (found.user.disabled) throw new AppError("permission_denied", "this account is disabled; ask an admin");
  if (found.user.mustChangePassword) throw mustChange();
  const now = deps.now();
  await markSshKeyUsed(deps.db, found.key.id, now);
  await recordLogin(deps.db, context, found.user, `public key ${fingerprint}`, now);
  return {
    principal: await userPrincipal(deps.db, found.user),
    method: "publickey",
    userId: found.user.id,
    recordAs: found.user.id,
  };
}

const ACCESS_TOKEN = /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/;

/** True when a secret typed as the password is an API token or an access token, not a password. */
export function isTokenSecret(secret: string): boolean {
  return secret.startsWith(API_TOKEN_PREFIX) || ACCESS_TOKEN.test(secret);
}

/**
 * A user by a secret typed as the password: an API token (`ocp_…`), an access token (a JWT),
 * or the console password (with the web sign-in's rate limit and lockout).
 */
export async function identifyBySecret(
  deps: SshIdentityDeps,
  context: AuditContext,
  username: string,
  secret: string,
): Promise<SshIdentity> {
  const now = deps.now();
  if (secret.startsWith(API_TOKEN_PREFIX)) {
    const row = await findLiveApiToken(deps.db, secret, context, now);
    if (!row) throw new AppError("unauthenticated", "the API token is unknown, revoked or expired");
    const permissions = (await getRolePermissions(deps.db, [row.role])).get(row.role) ?? [];
    return {
      method: "api_token",
      userId: row.id,
      recordAs: row.createdBy ?? "",
      principal: {
        kind: "token",
        id: row.id,
        name: row.name,
        mustChangePassword: false,
        grants: [
          {
            permissions: new Set(permissions),
            selector: row.selector ? parseSelector(row.selector) : undefined,
          },
        ],
      },
    };
  }
  if (ACCESS_TOKEN.test(secret)) {
    const claims = await deps.accessTokens.verify(secret, now);
    const live = claims ? await isSessionLive(deps.db, claims.sessionId, now) : false;
    const [user] =
      claims && live ? await deps.db.select().from(users).where(eq(users.id, claims.userId)) : [];
    if (!claims || !user || user.disabled) {
      throw new AppError("unauthenticated", "the access token is invalid or expired; sign in again");
    }
    if (user.username !== username) {
      throw new AppError("unauthenticated", `the access token belongs to another user than "${username}"`);
    }
    await recordLogin(deps.db, context, user, "access token", now);
    return {
      principal: await userPrincipal(deps.db, user, claims.sessionId),
      method: "access_token",
      userId: user.id,
      recordAs: user.id,
      sessionId: claims.sessionId,
    };
  }
  const user = await checkPasswordLogin(deps, context, { username, password: secret });
  if (user.mustChangePassword) throw mustChange();
  await deps.db.update(users).set({ failedLogins: 0, lockedUntil: null }).where(eq(users.id, user.id));
  await recordLogin(deps.db, context, user, "password", now);
  return {
    principal: await userPrincipal(deps.db, user),
    method: "password",
    userId: user.id,
    recordAs: user.id,
  };
}

/**
 * Why an open connection must end now (disabled or deleted user, revoked or expired token,
 * ended sign-in session), or undefined while it may go on.
 */
export async function revalidateSshIdentity(
  db: Db,
  identity: SshIdentity,
  now: Date,
): Promise<string | undefined> {
  if (identity.method === "api_token") {
    const [row] = await db.select().from(apiTokens).where(eq(apiTokens.id, identity.userId));
    if (!row || row.revokedAt) return "the API token was revoked";
    if (row.expiresAt <= now) return "the API token expired";
    return undefined;
  }
  const [user] = await db
    .select({ disabled: users.disabled })
    .from(users)
    .where(eq(users.id, identity.userId));
  if (!user) return "the account was removed";
  if (user.disabled) return "the account was disabled";
  if (identity.sessionId && !(await isSessionLive(db, identity.sessionId, now))) {
    return identity.method === "console"
      ? "the console sign-in session ended (signed out or expired)"
      : "the sign-in session of the access token ended";
  }
  return undefined;
}

async function recordLogin(
  db: Db,
  context: AuditContext,
  user: { id: string; username: string },
  how: string,
  now: Date,
): Promise<void> {
  const actor = { ...context, actor: { type: "user" as const, id: user.id, name: user.username } };
  await db.transaction((tx) =>
    recordAudit(tx, actor, { action: "ssh.login", targetType: "user", targetId: user.id, detail: how }, now),
  );
}

/**
 * The identity's principal as the database says now (roles and bindings may have changed since
 * the connection opened); undefined when the user or token is gone.
 */
export async function reloadSshPrincipal(db: Db, identity: SshIdentity): Promise<Principal | undefined> {
  if (identity.method === "api_token") {
    const [row] = await db.select().from(apiTokens).where(eq(apiTokens.id, identity.userId));
    if (!row) return undefined;
    const permissions = (await getRolePermissions(db, [row.role])).get(row.role) ?? [];
    return {
      ...identity.principal,
      grants: [
        {
          permissions: new Set(permissions),
          selector: row.selector ? parseSelector(row.selector) : undefined,
        },
      ],
    };
  }
  const [user] = await db.select().from(users).where(eq(users.id, identity.userId));
  return user ? userPrincipal(db, user, identity.sessionId) : undefined;
}
