import { and, sql } from "drizzle-orm";
import { rowsOf } from "../../platform/db/rows-of.js";
import { servers } from "../../platform/db/schema/servers.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Scope } from "../auth/principal.js";
import { SERVER_STATUSES } from "../server-status/server-status.js";
import { countServersByStatus, type StatusCounts } from "../servers/server-counts.js";
import { listServerPage } from "../servers/server-page.js";
import { scopeCondition } from "../servers/servers.js";

export const MAX_SUMMARY_TOP = 20;

export interface RankedServer {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly percent: number;
  readonly statusMessage: string;
}

export interface FleetSummary {
  readonly total: number;
  readonly statusCounts: StatusCounts;
  readonly tags: readonly { key: string; value: string; count: number }[];
  readonly busiestCpu: readonly RankedServer[];
  readonly busiestMemory: readonly RankedServer[];
  readonly busiestDisk: readonly RankedServer[];
  readonly failed: readonly RankedServer[];
}

/**
 * The overview's summary of the servers `scope` lets the caller see, from aggregate queries
 * only: the per-status counts (one `group by status`), the most common tags (one `group by` over
 * the tag pairs), and each ranking as a page of `top` from the usage and last-seen indexes
 * (listServerPage), so its cost does not grow with what the console would otherwise download.
 */
export async function getFleetSummary(
  db: Queryable,
  scope: Scope,
  input: { top?: number },
): Promise<FleetSummary> {
  const top = input.top ?? 0;
  if (!Number.isInteger(top) || top < 0 || top > MAX_SUMMARY_TOP) {
    throw AppError.invalid("top", `must be 1 to ${MAX_SUMMARY_TOP} (0 means 5)`);
  }
  const size = top === 0 ? 5 : top;
  const ranked = async (orderBy: string, pick: (row: RankRow) => number | null, statuses?: string[]) => {
    const page = await listServerPage(db, scope, { orderBy, pageSize: size, statuses });
    return page.rows
      .filter((row) => statuses || pick(row) !== null)
      .map((row) => ({
        id: row.id,
        name: row.name,
        status: row.status,
        percent: pick(row) ?? 0,
        statusMessage: row.statusMessage ?? "",
      }));
  };
  const [statusCounts, tags, busiestCpu, busiestMemory, busiestDisk, failed] = await Promise.all([
    countServersByStatus(db, scopeCondition(scope)),
    countTags(db, scope, size),
    ranked("cpu desc", (row) => row.cpuPercent),
    ranked("memory desc", (row) => row.memoryPercent),
    ranked("disk desc", (row) => row.diskPercent),
    ranked("last_seen desc", () => null, ["failed"]),
  ]);
  const total = SERVER_STATUSES.reduce((sum, status) => sum + (statusCounts[status] ?? 0), 0);
  return { total, statusCounts, tags, busiestCpu, busiestMemory, busiestDisk, failed };
}

interface RankRow {
  readonly cpuPercent: number | null;
  readonly memoryPercent: number | null;
  readonly diskPercent: number | null;
}

async function countTags(db: Queryable, scope: Scope, limit: number) {
  const result = await db.execute(sql`
    select tag.key as key, tag.value as value, count(*)::int as count
    from ${servers}, jsonb_each_text(${servers.tags}) as tag(key, value)
    where ${and(sql`true`, scopeCondition(scope))}
    group by tag.key, tag.value
    order by count(*) desc, tag.key, tag.value
    limit ${limit}`);
  return rowsOf<{ key: string; value: string; count: number }>(result).map((row) => ({
    key: row.key,
    value: row.value,
    count: Number(row.count),
  }));
}
