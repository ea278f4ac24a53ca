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

/**
 * A live stream without any message for this long is closed, and its server shown offline. The
 * gateway pings a stream quiet for PING_QUIET_AFTER_MS, so a live agent is heard at least every
 * ~4-6 s (its Pong or its samples); closing takes two unanswered pings. With a sweep every 2 s,
 * a host that falls silent is shown offline within 12 s (decision 0141; issue 16 asks ≤ 15 s p99).
 */
export const SILENT_AFTER_MS = 10_000;

/** The gateway pings a live stream that has been quiet this long. */
export const PING_QUIET_AFTER_MS = 4_000;

/** How often the gateway sweeps its live streams (pings, silence, last-seen times). */
export const PRESENCE_SWEEP_EVERY_MS = 2_000;

/**
 * How old a server's last-seen time may be before any replica shows it offline: a live stream's
 * time is written by its replica's sweep, so this allows the silence window plus two sweeps of
 * that replica running late. It covers streams of a replica that died.
 */
export const STALE_LAST_SEEN_AFTER_MS = SILENT_AFTER_MS + 2 * PRESENCE_SWEEP_EVERY_MS + 1_000;

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
 * Writes last-seen times for many servers in a few statements (and shows `active` again a server
 * another replica showed offline while its stream here was live: a replica that ran late must not
 * leave a live host offline) (the gateway calls this every
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
        status = case when servers.status = 'offline' then 'active' else servers.status end,
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
 * Shows offline every `active` server nobody has heard from for STALE_LAST_SEEN_AFTER_MS: this covers
 * streams held by a replica that died. Returns the ids it changed.
 */
export async function markSilentServersOffline(
  db: Db,
  input: { readonly now: Date; readonly silentAfterMs?: number },
): Promise<string[]> {
  const cutoff = new Date(input.now.getTime() - (input.silentAfterMs ?? STALE_LAST_SEEN_AFTER_MS));
  const result = await db.execute(sql`
    update servers set status = 'offline', updated_at = ${input.now.toISOString()}::timestamptz
    where status in ${listOf(SHOWS_LIVE_AGENT)} and (last_seen_at is null or last_seen_at < ${cutoff.toISOString()}::timestamptz)
    returning id`);
  return rowsOf<{ id: string }>(result).map((row) => row.id);
}
