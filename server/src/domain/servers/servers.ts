import { and, asc, eq, inArray, type SQL } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { isUuid } from "../../platform/db/is-uuid.js";
import { servers } from "../../platform/db/schema/servers.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import type { Scope } from "../auth/principal.js";
import type { Selector } from "../auth/selector.js";
import { anySelectorCondition, selectorCondition } from "../auth/selector-sql.js";
import { isServerStatus, SERVER_STATUSES } from "../server-status/server-status.js";
import { checkServerName, checkTags } from "./tags.js";

export type ServerRow = typeof servers.$inferSelect;

/** The servers a scope lets the caller see, as a SQL condition. */
export function scopeCondition(scope: Scope): SQL | undefined {
  return scope.all ? undefined : anySelectorCondition(servers.tags, scope.selectors);
}

export async function listServers(
  db: Queryable,
  scope: Scope,
  filter: { statuses?: readonly string[]; selector?: Selector },
): Promise<ServerRow[]> {
  const unknown = (filter.statuses ?? []).filter((status) => !isServerStatus(status));
  if (unknown.length > 0) {
    throw AppError.invalid(
      "statuses",
      `unknown: ${unknown.join(", ")}; known: ${SERVER_STATUSES.join(", ")}`,
    );
  }
  return db
    .select()
    .from(servers)
    .where(
      and(
        scopeCondition(scope),
        filter.statuses?.length ? inArray(servers.status, filter.statuses.filter(isServerStatus)) : undefined,
        filter.selector ? selectorCondition(servers.tags, filter.selector) : undefined,
      ),
    )
    .orderBy(asc(servers.name));
}

export async function findServer(db: Queryable, id: string): Promise<ServerRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await db.select().from(servers).where(eq(servers.id, id));
  return row;
}

export async function getServer(db: Queryable, id: string): Promise<ServerRow> {
  AppError.requireId(id);
  const row = await findServer(db, id);
  if (!row) throw AppError.notFound("the server");
  return row;
}

export async function updateServer(
  db: Db,
  context: AuditContext,
  input: { id: string; name?: string; tags?: Record<string, string> },
): Promise<ServerRow> {
  const name = input.name === undefined ? undefined : checkServerName(input.name);
  const tags = input.tags === undefined ? undefined : checkTags(input.tags);
  AppError.requireId(input.id);
  return db.transaction(async (tx) => {
    const before = await getServer(tx, input.id);
    if (name && name !== before.name) {
      const [clash] = await tx.select({ id: servers.id }).from(servers).where(eq(servers.name, name));
      if (clash) throw new AppError("already_exists", `a server named "${name}" exists`);
    }
    const [after] = await tx
      .update(servers)
      .set({ ...(name ? { name } : {}), ...(tags ? { tags } : {}), updatedAt: new Date() })
      .where(eq(servers.id, input.id))
      .returning();
    if (!after) throw AppError.notFound("the server");
    await recordAudit(tx, context, {
      action: "server.update",
      targetType: "server",
      targetId: input.id,
      before,
      after,
    });
    return after;
  });
}
