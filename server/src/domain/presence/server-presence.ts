import type { HostFacts } from "@ocore/proto/host-facts.js";
import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { rowsOf } from "../../platform/db/rows-of.js";
import type { UsageSummary } from "../metrics/metric-sample.js";
import {
  ACTIVATED_BY_AGENT_STREAM,
  FAILURES_A_LIVE_AGENT_DISPROVES,
  SHOWS_LIVE_AGENT,
} from "../server-status/server-status.js";

/** `(…)` of a status list, for `status in …`. */
const listOf = (statuses: readonly string[]) =>
  sql`(${sql.join(
    statuses.map((status) => sql`${status}`),
    sql`, `,
  )})`;

/** A live stream older than this without any message is closed, and its server shown offline. */
export const SILENT_AFTER_MS = 25_000;

/**
 * An agent's stream is up: the server becomes `active` (from connecting, connected or offline, and
 * from a failure the live stream disproves; provisioning, other failures and removing are decided
 * by other workflows and kept).
 */
export async function markAgentConnected(
  db: Db,
  serverId: string,
  input: { readonly agentVersion: string; readonly facts: HostFacts; readonly now: Date },
): Promise<void> {
  const activates = sql`(status in ${listOf(ACTIVATED_BY_AGENT_STREAM)}
    or (status = 'failed' and status_reason in ${listOf(FAILURES_A_LIVE_AGENT_DISPROVES)}))`;
  await db.execute(sql`
    update servers set
      agent_version = ${input.agentVersion},
      facts = ${JSON.stringify(input.facts)}::jsonb,
      last_seen_at = ${input.now.toISOString()}::timestamptz,
      status = case when ${activates} then 'active' else status end,
      status_reason = case when ${activates} then null else status_reason end,
      status_message = case when ${activates} then null else status_message end,
      updated_at = ${input.now.toISOString()}::timestamptz
    where id = ${serverId}`);
}

/** An agent's stream ended: an `active` server becomes `offline`, keeping when it was last seen. */
export async function markAgentDisconnected(
  db: Db,
  serverId: string,
  input: { readonly lastSeenAt: Date; readonly now: Date },
): Promise<void> {
  await db.execute(sql`
    update servers set
      status = 'offline',
      last_seen_at = greatest(last_seen_at, ${input.lastSeenAt.toISOString()}::timestamptz),
      updated_at = ${input.now.toISOString()}::timestamptz
    where id = ${serverId} and status in ${listOf(SHOWS_LIVE_AGENT)}`);
}

const LAST_SEEN_CHUNK = 5000;

/**
 * Writes last-seen times for many servers in a few statements (the gateway calls this every
 * few seconds with the streams that received something since), with the newest sample's usage
 * where one arrived, so the fleet list can sort by it through an index. The entries travel as one
 * JSON parameter, so a statement costs a few objects whatever the number of servers. Returns the
 * ids that still exist.
 */
export async function writeLastSeen(
  db: Db,
  entries: ReadonlyArray<{ readonly serverId: string; readonly at: Date; readonly usage?: UsageSummary }>,
): Promise<Set<string>> {
  const existing = new Set<string>();
  for (let start = 0; start < entries.length; start += LAST_SEEN_CHUNK) {
    const rows = entries.slice(start, start + LAST_SEEN_CHUNK).map((entry) =>
      JSON.stringify({
        id: entry.serverId,
        at: entry.at.toISOString(),
        u: entry.usage ? 1 : 0,
        cpu: entry.usage?.cpuPercent ?? null,
        mem: entry.usage?.memoryPercent ?? null,
        disk: entry.usage?.diskPercent ?? null,
      }),
    );
    const result = await db.execute(sql`
      update servers set
        last_seen_at = greatest(servers.last_seen_at, v.at),
        cpu_percent = case when v.u = 1 then v.cpu else servers.cpu_percent end,
        memory_percent = case when v.u = 1 then v.mem else servers.memory_percent end,
        disk_percent = case when v.u = 1 then v.disk else servers.disk_percent end
      from json_to_recordset(${`[${rows.join(",")}]`}::json)
        as v(id uuid, at timestamptz, u int, cpu real, mem real, disk real)
      where servers.id = v.id
      returning servers.id`);
    for (const row of rowsOf<{ id: string }>(result)) existing.add(row.id);
  }
  return existing;
}

/**
 * Shows offline every `active` server nobody has heard from for SILENT_AFTER_MS: this covers
 * streams held by a replica that died. Returns the ids it changed.
 */
export async function markSilentServersOffline(
  db: Db,
  input: { readonly now: Date; readonly silentAfterMs?: number },
): Promise<string[]> {
  const cutoff = new Date(input.now.getTime() - (input.silentAfterMs ?? SILENT_AFTER_MS));
  const result = await db.execute(sql`
    update servers set status = 'offline', updated_at = ${input.now.toISOString()}::timestamptz
    where status in ${listOf(SHOWS_LIVE_AGENT)} and (last_seen_at is null or last_seen_at < ${cutoff.toISOString()}::timestamptz)
    returning id`);
  return rowsOf<{ id: string }>(result).map((row) => row.id);
}
