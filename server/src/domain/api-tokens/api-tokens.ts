import { and, desc, eq, gt, isNull, lt, or } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { apiTokens } from "../../platform/db/schema/users.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { isPermission } from "../auth/permissions.js";
import { holdsEverywhere, type Principal } from "../auth/principal.js";
import { hashToken, randomToken } from "../auth/secrets.js";
import { parseSelector } from "../auth/selector.js";
import { getRolePermissions } from "../users/roles.js";

export const API_TOKEN_PREFIX = "ocp_";
export type ApiTokenRow = typeof apiTokens.$inferSelect;
export type ApiTokenView = Omit<ApiTokenRow, "tokenHash">;

function view({ tokenHash: _hash, ...rest }: ApiTokenRow): ApiTokenView {
  return rest;
}

/** Creates a token; the creator must hold every permission of the role everywhere it applies. */
export async function createApiToken(
  db: Db,
  context: AuditContext,
  creator: Principal,
  input: { name: string; role: string; selector: string; ttlDays: number },
  now: Date,
): Promise<{ token: ApiTokenView; secret: string }> {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100) throw AppError.invalid("name", "must be 1-100 characters");
  if (!Number.isInteger(input.ttlDays) || input.ttlDays < 1 || input.ttlDays > 365) {
    throw AppError.invalid("ttlDays", "must be between 1 and 365");
  }
  parseSelector(input.selector);
  const permissions = (await getRolePermissions(db, [input.role])).get(input.role);
  if (!permissions) throw AppError.invalid("role", `no role "${input.role}"`);
  const missing = permissions.filter(
    (permission) => isPermission(permission) && !holdsEverywhere(creator, permission),
  );
  if (missing.length > 0) {
    throw new AppError(
      "permission_denied",
      `you cannot grant what you do not hold everywhere: ${missing.join(", ")}`,
    );
  }
  const secret = randomToken(API_TOKEN_PREFIX);
  const row = {
    name,
    prefix: secret.slice(0, API_TOKEN_PREFIX.length + 8),
    tokenHash: hashToken(secret),
    role: input.role,
    selector: input.selector,
    createdBy: creator.kind === "user" ? creator.id : null,
    createdByName: creator.name,
    createdAt: now,
    expiresAt: new Date(now.getTime() + input.ttlDays * 86_400_000),
  };
  const token = await db.transaction(async (tx) => {
    const [inserted] = await tx.insert(apiTokens).values(row).returning();
    if (!inserted) throw new Error("the token was not created");
    await recordAudit(
      tx,
      context,
      { action: "token.create", targetType: "api_token", targetId: inserted.id, after: view(inserted) },
      now,
    );
    return view(inserted);
  });
  return { token, secret };
}

export async function listApiTokens(db: Db, includeRevoked: boolean, now: Date): Promise<ApiTokenView[]> {
  const rows = await db
    .select()
    .from(apiTokens)
    .where(includeRevoked ? undefined : and(isNull(apiTokens.revokedAt), gt(apiTokens.expiresAt, now)))
    .orderBy(desc(apiTokens.createdAt));
  return rows.map(view);
}

export async function revokeApiToken(db: Db, context: AuditContext, id: string, now: Date): Promise<void> {
  AppError.requireId(id);
  await db.transaction(async (tx) => {
    const [before] = await tx.select().from(apiTokens).where(eq(apiTokens.id, id));
    if (!before) throw AppError.notFound("the token");
    if (before.revokedAt) throw new AppError("failed_precondition", "the token is already revoked");
    await tx.update(apiTokens).set({ revokedAt: now }).where(eq(apiTokens.id, id));
    await recordAudit(
      tx,
      context,
      { action: "token.revoke", targetType: "api_token", targetId: id, before: view(before) },
      now,
    );
  });
}

/**
 * The live token for a secret, or undefined. Records its use at most once a minute (and audits
 * that use), so a busy token does not write on every call.
 */
export async function findLiveApiToken(
  db: Db,
  secret: string,
  context: Omit<AuditContext, "actor">,
  now: Date,
): Promise<ApiTokenRow | undefined> {
  const [row] = await db
    .select()
    .from(apiTokens)
    .where(eq(apiTokens.tokenHash, hashToken(secret)));
  if (!row || row.revokedAt || row.expiresAt <= now) return undefined;
  const staleBefore = new Date(now.getTime() - 60_000);
  if (!row.lastUsedAt || row.lastUsedAt < staleBefore) {
    await db.transaction(async (tx) => {
      const marked = await tx
        .update(apiTokens)
        .set({ lastUsedAt: now })
        .where(
          and(
            eq(apiTokens.id, row.id),
            or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, staleBefore)),
          ),
        )
        .returning({ id: apiTokens.id });
      if (marked.length > 0) {
        const actor = { type: "token" as const, id: row.id, name: row.name };
        await recordAudit(
          tx,
          { ...context, actor },
          { action: "token.use", targetType: "api_token", targetId: row.id },
          now,
        );
      }
    });
  }
  return row;
}
