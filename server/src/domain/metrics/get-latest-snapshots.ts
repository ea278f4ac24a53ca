import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { isUuid } from "../../platform/db/is-uuid.js";
import { rowsOf } from "../../platform/db/rows-of.js";
import { AppError } from "../../platform/errors/app-error.js";
import { decodePageToken, encodePageToken, queryDigestOf } from "../../platform/paging/page-token.js";
import type { Scope } from "../auth/principal.js";
import { anySelectorCondition } from "../auth/selector-sql.js";
import { type SeriesPoint, toPoint } from "./get-series.js";

export interface ServerSnapshot {
  readonly serverId: string;
  readonly name: string;
  readonly status: string;
  readonly lastSeenAt: Date | undefined;
  /** The newest raw sample, when there is one within the raw retention. */
  readonly latest: SeriesPoint | undefined;
}

export const MAX_SNAPSHOT_SERVERS = 5000;
/** A page of snapshots over the whole fleet (no ids) holds this many servers unless asked otherwise. */
export const DEFAULT_SNAPSHOT_PAGE = 1000;

/**
 * The fleet view: each server's status, last-seen time and newest sample, in one query (an
 * index lookup per server on metric_samples (server_id, collected_at)). No ids: every server.
 */
export async function getLatestSnapshots(
  db: Db,
  input: {
    readonly serverIds: readonly string[];
    readonly scope: Scope;
    /** Only servers named after this (keyset paging by name). */
    readonly afterName?: string;
    /** At most this many (MAX_SNAPSHOT_SERVERS when unset). */
    readonly limit?: number;
  },
) {
  if (input.serverIds.length > MAX_SNAPSHOT_SERVERS) {
    throw AppError.invalid("serverIds", `at most ${MAX_SNAPSHOT_SERVERS} server ids per request`);
  }
  const invalid = input.serverIds.find((id) => !isUuid(id));
  if (invalid !== undefined)
    throw AppError.invalid("serverIds", `"${invalid.slice(0, 64)}" is not a server id`);
  const filter =
    input.serverIds.length === 0
      ? sql`true`
      : sql`s.id in (${sql.join(
          input.serverIds.map((id) => sql`${id}::uuid`),
          sql`, `,
        )})`;
  const visible = input.scope.all ? sql`true` : anySelectorCondition(sql`s.tags`, input.scope.selectors);
  const result = await db.execute(sql`
    select s.id as server_id, s.name, s.status, s.last_seen_at, m.*
    from servers s
    left join lateral (
      select collected_at as time, 1 as samples, cpu_percent, cpu_percent as cpu_percent_max, load1, load5, load15,
        memory_total, memory_used, memory_used as memory_used_max, memory_available, swap_used, disk_used_percent,
        disk_read_bps, disk_write_bps, net_rx_bps, net_tx_bps, tcp_connections, containers_running
      from metric_samples where server_id = s.id order by collected_at desc limit 1
    ) m on true
    where ${filter} and (${visible}) and ${input.afterName === undefined ? sql`true` : sql`s.name > ${input.afterName}`}
    order by s.name
    limit ${Math.min(input.limit ?? MAX_SNAPSHOT_SERVERS, MAX_SNAPSHOT_SERVERS)}`);
  return rowsOf<Record<string, unknown>>(result).map(
    (row): ServerSnapshot => ({
      serverId: row.server_id as string,
      name: row.name as string,
      status: row.status as string,
      lastSeenAt: row.last_seen_at ? new Date(row.last_seen_at as string | Date) : undefined,
      latest: row.time ? toPoint(row) : undefined,
    }),
  );
}

/**
 * One page of snapshots by server name: `pageSize` at most MAX_SNAPSHOT_SERVERS, 0 meaning every
 * named server, or DEFAULT_SNAPSHOT_PAGE without names; `pageToken` continues the previous page
 * (opaque, bound to the same ids, refused when altered). Paging is by name, so servers added or
 * removed meanwhile never make a page skip or repeat another's.
 */
export async function getLatestSnapshotPage(
  db: Db,
  input: {
    readonly serverIds: readonly string[];
    readonly scope: Scope;
    readonly pageSize: number;
    readonly pageToken: string;
  },
): Promise<{ readonly snapshots: ServerSnapshot[]; readonly nextPageToken: string }> {
  const { pageSize } = input;
  if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > MAX_SNAPSHOT_SERVERS)
    throw AppError.invalid("page_size", `must be 0..${MAX_SNAPSHOT_SERVERS}`);
  const size = pageSize || (input.serverIds.length > 0 ? MAX_SNAPSHOT_SERVERS : DEFAULT_SNAPSHOT_PAGE);
  const digest = queryDigestOf(["snapshots", [...input.serverIds].sort()]);
  const after = input.pageToken ? decodePageToken(input.pageToken, digest).name : undefined;
  const rows = await getLatestSnapshots(db, { ...input, afterName: after, limit: size + 1 });
  const page = rows.slice(0, size);
  const last = page.at(-1);
  return {
    snapshots: page,
    nextPageToken: rows.length > size && last ? encodePageToken(digest, { key: null, name: last.name }) : "",
  };
}
