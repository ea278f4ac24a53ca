import { and, count, eq, getTableColumns, inArray, or, type SQL, sql } from "drizzle-orm";
import { INSTANCE_STATES, type InstanceState, instances } from "../../platform/db/schema/instances.js";
import { servers } from "../../platform/db/schema/servers.js";
import { AppError } from "../../platform/errors/app-error.js";
import {
  decodePageToken,
  encodePageToken,
  type PagePosition,
  queryDigestOf,
} from "../../platform/paging/page-token.js";
import type { Scope } from "../auth/principal.js";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_QUERY_LENGTH } from "../servers/server-page.js";
import { scopeCondition } from "../servers/servers.js";
import type { InstanceDeps } from "./instance-deps.js";
import { refreshInstanceStates } from "./instance-queries.js";
import type { InstanceRow } from "./instance-view.js";

/**
 * The orders a page of instances can be sorted by, each a text or timestamp expression; the
 * instance id breaks ties, so (expression, id) is a total order a page token can continue. The
 * default joins server and instance name with a separator below any printable character, which
 * sorts as "by server, then by name" in one comparable key.
 */
const ORDERS = {
  server: { expression: sql`${servers.name} || chr(1) || ${instances.name}`, cast: "text" },
  name: { expression: sql`${instances.name}`, cast: "text" },
  state: { expression: sql`${instances.state}`, cast: "text" },
  created: { expression: sql`${instances.createdAt}`, cast: "timestamptz" },
} as const;

type InstanceOrder = keyof typeof ORDERS;
const instanceOrders = Object.keys(ORDERS) as InstanceOrder[];

export interface InstancePageInput {
  readonly serverId?: string;
  readonly states?: readonly string[];
  /** Case-insensitive substring of the instance's or its server's name. */
  readonly query?: string;
  /** `server`, `name`, `state` or `created`, optionally followed by ` desc`. */
  readonly orderBy?: string;
  /** 0 means DEFAULT_PAGE_SIZE. */
  readonly pageSize?: number;
  readonly pageToken?: string;
}

export interface InstancePage {
  readonly rows: InstanceRow[];
  /** Empty on the last page. */
  readonly nextPageToken: string;
  /** Instances matching the whole filter. */
  readonly totalSize: number;
}

/**
 * One page of the instances on servers the scope lets the caller see (keyset paging, as
 * ListServers: a page starts after the previous page's last row, so instances added or removed
 * meanwhile never make a page skip or repeat a row). Only the page's instances are refreshed
 * from Docker, so a page costs the same whatever the number of instances.
 */
export async function listInstancePage(
  deps: InstanceDeps,
  scope: Scope,
  input: InstancePageInput,
): Promise<InstancePage> {
  if (input.serverId) AppError.requireId(input.serverId, "serverId");
  const states = checkStates(input.states ?? []);
  const pageSize = checkPageSize(input.pageSize ?? 0);
  const { order, descending } = parseInstanceOrder(input.orderBy ?? "");
  const query = (input.query ?? "").trim();
  if (query.length > MAX_QUERY_LENGTH)
    throw AppError.invalid("query", `at most ${MAX_QUERY_LENGTH} characters`);
  const digest = queryDigestOf([
    "instances",
    input.serverId ?? "",
    [...states].sort(),
    query.toLowerCase(),
    order,
    descending,
  ]);
  const after = input.pageToken ? decodePageToken(input.pageToken, digest) : undefined;
  const filter = and(
    scopeCondition(scope),
    input.serverId ? eq(instances.serverId, input.serverId) : undefined,
    states.length > 0 ? inArray(instances.state, states) : undefined,
    query ? searchCondition(query) : undefined,
  );
  const { expression } = ORDERS[order];
  const direction = descending ? sql`desc` : sql`asc`;
  const [rows, [total]] = await Promise.all([
    deps.db
      .select({ ...getTableColumns(instances), sortKey: sql<string>`(${expression})::text` })
      .from(instances)
      .innerJoin(servers, eq(servers.id, instances.serverId))
      .where(and(filter, after ? afterCondition(order, after, descending) : undefined))
      .orderBy(sql`${expression} ${direction}`, sql`${instances.id} ${direction}`)
      .limit(pageSize + 1),
    deps.db
      .select({ n: count() })
      .from(instances)
      .innerJoin(servers, eq(servers.id, instances.serverId))
      .where(filter),
  ]);
  const page = rows.slice(0, pageSize);
  const last = page.at(-1);
  const nextPageToken =
    rows.length > pageSize && last ? encodePageToken(digest, { key: last.sortKey, name: last.id }) : "";
  const refreshed = await refreshInstanceStates(
    deps,
    page.map(({ sortKey: _, ...row }) => row),
  );
  return { rows: refreshed, nextPageToken, totalSize: Number(total?.n ?? 0) };
}

function afterCondition(order: InstanceOrder, after: PagePosition, descending: boolean): SQL {
  const { expression, cast } = ORDERS[order];
  if (after.key === null) throw AppError.invalid("page_token", "is malformed");
  if (!/^[0-9a-f-]{36}$/.test(after.name)) throw AppError.invalid("page_token", "is malformed");
  const beyond = descending ? sql`<` : sql`>`;
  return sql`(${expression}, ${instances.id}) ${beyond} (${after.key}::${sql.raw(cast)}, ${after.name}::uuid)`;
}

function searchCondition(query: string): SQL | undefined {
  const pattern = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return or(sql`${instances.name} ilike ${pattern}`, sql`${servers.name} ilike ${pattern}`);
}

function checkStates(states: readonly string[]): InstanceState[] {
  const known = new Set<string>(INSTANCE_STATES);
  const unknown = states.filter((state) => !known.has(state));
  if (unknown.length > 0) {
    throw AppError.invalid("states", `unknown: ${unknown.join(", ")}; known: ${INSTANCE_STATES.join(", ")}`);
  }
  return states as InstanceState[];
}

function checkPageSize(size: number): number {
  if (!Number.isInteger(size) || size < 0) throw AppError.invalid("page_size", "must not be negative");
  if (size > MAX_PAGE_SIZE) throw AppError.invalid("page_size", `at most ${MAX_PAGE_SIZE}`);
  return size === 0 ? DEFAULT_PAGE_SIZE : size;
}

function parseInstanceOrder(text: string): { order: InstanceOrder; descending: boolean } {
  const [field = "", direction = "asc", ...rest] = text.trim().toLowerCase().split(/\s+/);
  if (field === "") return { order: "server", descending: false };
  if (!(field in ORDERS) || rest.length > 0 || (direction !== "asc" && direction !== "desc")) {
    throw AppError.invalid(
      "order_by",
      `"${text.slice(0, 60)}" is not an order; use one of ${instanceOrders.join(", ")}, optionally followed by " desc"`,
    );
  }
  return { order: field as InstanceOrder, descending: direction === "desc" };
}
