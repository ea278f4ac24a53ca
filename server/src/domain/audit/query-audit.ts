import { and, asc, desc, eq, gt, gte, like, lt, lte, or, type SQL } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { auditLog } from "../../platform/db/schema/audit.js";
import type { AuditRow } from "./record-audit.js";

export interface AuditFilter {
  readonly actor?: string;
  /** Exact action, or a prefix when it ends with "." ("server."). */
  readonly action?: string;
  readonly target?: string;
  readonly since?: Date;
  readonly until?: Date;
}

export function auditFilterCondition(filter: AuditFilter): SQL | undefined {
  const conditions: (SQL | undefined)[] = [];
  if (filter.actor)
    conditions.push(or(eq(auditLog.actorId, filter.actor), eq(auditLog.actorName, filter.actor)));
  if (filter.action) {
    conditions.push(
      filter.action.endsWith(".")
        ? like(auditLog.action, `${filter.action.replace(/[\\%_]/g, "\\$&")}%`)
        : eq(auditLog.action, filter.action),
    );
  }
  if (filter.target) conditions.push(eq(auditLog.targetId, filter.target));
  if (filter.since) conditions.push(gte(auditLog.at, filter.since));
  if (filter.until) conditions.push(lt(auditLog.at, filter.until));
  return and(...conditions);
}

/** The same test as `auditFilterCondition`, on an entry in memory (the follow feed fans out with it). */
export function matchesAuditFilter(filter: AuditFilter, row: AuditRow): boolean {
  if (filter.actor && row.actorId !== filter.actor && row.actorName !== filter.actor) return false;
  if (filter.action) {
    const prefix = filter.action.endsWith(".");
    if (prefix ? !row.action.startsWith(filter.action) : row.action !== filter.action) return false;
  }
  if (filter.target && row.targetId !== filter.target) return false;
  if (filter.since && row.at < filter.since) return false;
  if (filter.until && row.at >= filter.until) return false;
  return true;
}

/** One page of entries, newest first; `beforeId` continues from the previous page. */
export async function listAuditEntries(
  db: Db,
  filter: AuditFilter,
  page: { limit: number; beforeId?: number },
): Promise<AuditRow[]> {
  const condition = and(
    auditFilterCondition(filter),
    page.beforeId ? lt(auditLog.id, page.beforeId) : undefined,
  );
  return db.select().from(auditLog).where(condition).orderBy(desc(auditLog.id)).limit(page.limit);
}

/**
 * Every matching entry after `afterId` (and up to `throughId`, when given), oldest first, read in
 * pages so memory stays flat however long the log.
 */
export async function* readAuditEntries(
  db: Db,
  filter: AuditFilter,
  {
    afterId: start = 0,
    throughId,
    pageSize = 500,
  }: { afterId?: number; throughId?: number; pageSize?: number } = {},
): AsyncGenerator<AuditRow> {
  let afterId = start;
  for (;;) {
    const page = await db
      .select()
      .from(auditLog)
      .where(
        and(
          auditFilterCondition(filter),
          gt(auditLog.id, afterId),
          throughId === undefined ? undefined : lte(auditLog.id, throughId),
        ),
      )
      .orderBy(asc(auditLog.id))
      .limit(pageSize);
    yield* page;
    const last = page.at(-1);
    if (!last || page.length < pageSize) return;
    afterId = last.id;
  }
}

export async function latestAuditId(db: Db): Promise<number> {
  const [row] = await db.select({ id: auditLog.id }).from(auditLog).orderBy(desc(auditLog.id)).limit(1);
  return row?.id ?? 0;
}
