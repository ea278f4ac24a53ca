import { and, getTableColumns, inArray, or, type SQL, sql } from "drizzle-orm";
import { servers } from "../../platform/db/schema/servers.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { AppError } from "../../platform/errors/app-error.js";
import {
  decodePageToken,
  encodePageToken,
  type PagePosition,
  queryDigestOf,
} from "../../platform/paging/page-token.js";
import type { Scope } from "../auth/principal.js";
import type { Selector } from "../auth/selector.js";
import { selectorCondition } from "../auth/selector-sql.js";
import { isServerStatus, SERVER_STATUSES, type ServerStatus } from "../server-status/server-status.js";
import { countServersByStatus, type ServerCountCache } from "./server-counts.js";
import { type ServerRow, scopeCondition } from "./servers.js";

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 500;
export const MAX_QUERY_LENGTH = 200;

/**
 * The orders a page can be sorted by. Each is an expression with an index on (expression, name)
 * (db/schema/servers.ts), so a page is an index range scan whatever the fleet's size; missing
 * values sort first ascending (last descending). `cast` types a page token's key for comparison.
 */
const ORDERS = {
  name: { expression: undefined, cast: "" },
  status: { expression: sql`${servers.status}`, cast: "text" },
  last_seen: {
    expression: sql`coalesce(${servers.lastSeenAt}, '-infinity'::timestamptz)`,
    cast: "timestamptz",
  },
  cpu: { expression: sql`coalesce(${servers.cpuPercent}, -1)`, cast: "real" },
  memory: { expression: sql`coalesce(${servers.memoryPercent}, -1)`, cast: "real" },
  disk: { expression: sql`coalesce(${servers.diskPercent}, -1)`, cast: "real" },
} as const;

export type ServerOrder = keyof typeof ORDERS;
export const serverOrders = Object.keys(ORDERS) as ServerOrder[];

export interface ServerPageInput {
  readonly statuses?: readonly string[];
  readonly selector?: Selector;
  /** Case-insensitive substring of the name or the host. */
  readonly query?: string;
  /** `name`, `status`, `last_seen`, `cpu`, `memory` or `disk`, optionally followed by ` desc`. */
  readonly orderBy?: string;
  /** 0 means DEFAULT_PAGE_SIZE. */
  readonly pageSize?: number;
  readonly pageToken?: string;
}

export interface ServerPage {
  readonly rows: ServerRow[];
  /** Empty on the last page. */
  readonly nextPageToken: string;
  /** Servers matching the whole filter. */
  readonly totalSize: number;
  /** Servers per status matching the filter without its status part (facets), every status listed. */
  readonly statusCounts: Readonly<Record<string, number>>;
}

/**
 * One page of the servers the scope lets the caller see. Keyset paging on (sort key, name): a
 * page starts after the previous page's last row, so servers added or removed meanwhile never
 * make a page skip or repeat another's rows, and a page costs an index range scan, not an offset.
 */
export async function listServerPage(
  db: Queryable,
  scope: Scope,
  input: ServerPageInput,
  options: {
    /** Shares counts between calls; the first page refreshes them, later pages and live windows reuse them. */
    readonly counts?: ServerCountCache;
    /** With `counts`: whether the first page may reuse recent counts too (live windows re-read every tick). */
    readonly reuseOnFirstPage?: boolean;
  } = {},
): Promise<ServerPage> {
  const statuses = checkStatuses(input.statuses ?? []);
  const pageSize = checkPageSize(input.pageSize ?? 0);
  const { order, descending } = parseOrder(input.orderBy ?? "");
  const query = (input.query ?? "").trim();
  if (query.length > MAX_QUERY_LENGTH)
    throw AppError.invalid("query", `at most ${MAX_QUERY_LENGTH} characters`);
  const digest = queryDigestOf([
    [...statuses].sort(),
    input.selector?.requirements ?? [],
    query.toLowerCase(),
    order,
    descending,
  ]);
  const after = input.pageToken ? decodePageToken(input.pageToken, digest) : undefined;

  const base = and(
    scopeCondition(scope),
    input.selector ? selectorCondition(servers.tags, input.selector) : undefined,
    query ? searchCondition(query) : undefined,
  );
  const statusFilter = statuses.length > 0 ? inArray(servers.status, statuses) : undefined;
  const { expression } = ORDERS[order];
  const direction = descending ? sql`desc` : sql`asc`;
  // The page and the counts are independent: on PostgreSQL they run on two pooled connections at once.
  const countKey = { scope, selector: input.selector?.requirements ?? [], query: query.toLowerCase() };
  const [rows, statusCounts] = await Promise.all([
    db
      .select({
        ...getTableColumns(servers),
        sortKey: sql<string | null>`(${expression ?? sql`null`})::text`,
      })
      .from(servers)
      .where(and(base, statusFilter, after ? afterCondition(order, after, descending) : undefined))
      .orderBy(...(expression ? [sql`${expression} ${direction}`] : []), sql`${servers.name} ${direction}`)
      .limit(pageSize + 1),
    options.counts
      ? options.counts.get(
          countKey,
          () => countServersByStatus(db, base),
          !after && !options.reuseOnFirstPage,
        )
      : countServersByStatus(db, base),
  ]);
  const counted: readonly ServerStatus[] = statuses.length > 0 ? statuses : SERVER_STATUSES;
  let totalSize = 0;
  for (const status of counted) totalSize += statusCounts[status] ?? 0;

  const page = rows.slice(0, pageSize);
  const last = page.at(-1);
  const nextPageToken =
    rows.length > pageSize && last ? encodePageToken(digest, { key: last.sortKey, name: last.name }) : "";
  return {
    rows: page.map(({ sortKey: _, ...row }) => row),
    nextPageToken,
    totalSize,
    statusCounts,
  };
}

function afterCondition(order: ServerOrder, after: PagePosition, descending: boolean): SQL {
  const { expression, cast } = ORDERS[order];
  const beyond = descending ? sql`<` : sql`>`;
  if (!expression) return sql`${servers.name} ${beyond} ${after.name}`;
  if (after.key === null) throw AppError.invalid("page_token", "is malformed");
  // A row comparison, which PostgreSQL answers from the (expression, name) index.
  return sql`(${expression}, ${servers.name}) ${beyond} (${after.key}::${sql.raw(cast)}, ${after.name})`;
}

export function searchCondition(query: string): SQL | undefined {
  const pattern = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return or(sql`${servers.name} ilike ${pattern}`, sql`${servers.host} ilike ${pattern}`);
}

export function checkStatuses(statuses: readonly string[]): ServerStatus[] {
  const unknown = statuses.filter((status) => !isServerStatus(status));
  if (unknown.length > 0) {
    throw AppError.invalid(
      "statuses",
      `unknown: ${unknown.join(", ")}; known: ${SERVER_STATUSES.join(", ")}`,
    );
  }
  return statuses.filter(isServerStatus);
}

function checkPageSize(size: number): number {
  if (!Number.isInteger(size) || size < 0) throw AppError.invalid("page_size", "must not be negative");
  if (size > MAX_PAGE_SIZE) throw AppError.invalid("page_size", `at most ${MAX_PAGE_SIZE}`);
  return size === 0 ? DEFAULT_PAGE_SIZE : size;
}

export function parseOrder(text: string): { order: ServerOrder; descending: boolean } {
  const [field = "", direction = "asc", ...rest] = text.trim().toLowerCase().split(/\s+/);
  if (field === "") return { order: "name", descending: false };
  if (!(field in ORDERS) || rest.length > 0 || (direction !== "asc" && direction !== "desc")) {
    throw AppError.invalid(
      "order_by",
      `"${text.slice(0, 60)}" is not an order; use one of ${serverOrders.join(", ")}, optionally followed by " desc"`,
    );
  }
  return { order: field as ServerOrder, descending: direction === "desc" };
}
