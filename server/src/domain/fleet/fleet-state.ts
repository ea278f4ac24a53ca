import { inArray, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { rowsOf } from "../../platform/db/rows-of.js";
import { instances } from "../../platform/db/schema/instances.js";
import { provisioningJobs } from "../../platform/db/schema/provisioning.js";
import { servers } from "../../platform/db/schema/servers.js";
import type { Scope } from "../auth/principal.js";
import type { Selector } from "../auth/selector.js";
import { getLatestSnapshots, MAX_SNAPSHOT_SERVERS } from "../metrics/get-latest-snapshots.js";
import type { SeriesPoint } from "../metrics/get-series.js";
import { listServers, type ServerRow } from "../servers/servers.js";

/** A server's provisioning or removal job at a glance (GetServer has its steps and verdicts). */
export type JobSummary = Pick<
  typeof provisioningJobs.$inferSelect,
  "kind" | "state" | "step" | "attempt" | "errorReason" | "errorMessage" | "updatedAt"
>;

/** How many instances a server has and when the newest of them last changed. */
export interface InstancesSummary {
  readonly count: number;
  readonly changedAt: Date | undefined;
}

/** A server with its newest raw sample, its job and its instances at a glance: one row of the live fleet view. */
export interface FleetEntry {
  readonly server: ServerRow;
  readonly latest: SeriesPoint | undefined;
  readonly job: JobSummary | undefined;
  readonly instances: InstancesSummary;
}

const NO_INSTANCES: InstancesSummary = { count: 0, changedAt: undefined };

/** Adds each server's newest sample (one indexed lookup per server), job and instance summary, in chunks. */
async function withLatest(db: Db, rows: readonly ServerRow[]): Promise<FleetEntry[]> {
  const latest = new Map<string, SeriesPoint>();
  const jobs = new Map<string, JobSummary>();
  const summaries = new Map<string, InstancesSummary>();
  for (let start = 0; start < rows.length; start += MAX_SNAPSHOT_SERVERS) {
    const ids = rows.slice(start, start + MAX_SNAPSHOT_SERVERS).map((row) => row.id);
    for (const snapshot of await getLatestSnapshots(db, { serverIds: ids, scope: { all: true } })) {
      if (snapshot.latest) latest.set(snapshot.serverId, snapshot.latest);
    }
    const jobRows = await db
      .select({
        serverId: provisioningJobs.serverId,
        kind: provisioningJobs.kind,
        state: provisioningJobs.state,
        step: provisioningJobs.step,
        attempt: provisioningJobs.attempt,
        errorReason: provisioningJobs.errorReason,
        errorMessage: provisioningJobs.errorMessage,
        updatedAt: provisioningJobs.updatedAt,
      })
      .from(provisioningJobs)
      .where(inArray(provisioningJobs.serverId, ids));
    for (const { serverId, ...job } of jobRows) jobs.set(serverId, job);
    const instanceRows = await db
      .select({
        serverId: instances.serverId,
        count: sql<number>`count(*)::int`,
        changedAt: sql<string>`max(${instances.updatedAt})`,
      })
      .from(instances)
      .where(inArray(instances.serverId, ids))
      .groupBy(instances.serverId);
    for (const { serverId, count, changedAt } of instanceRows) {
      summaries.set(serverId, {
        count: Number(count),
        changedAt: changedAt ? new Date(changedAt) : undefined,
      });
    }
  }
  return rows.map((server) => ({
    server,
    latest: latest.get(server.id),
    job: jobs.get(server.id),
    instances: summaries.get(server.id) ?? NO_INSTANCES,
  }));
}

/** Every server the scope lets the caller see (optionally only `ids`, or those `selector` matches), by name. */
export async function readFleet(
  db: Db,
  scope: Scope,
  filter: { readonly ids?: ReadonlySet<string>; readonly selector?: Selector } = {},
): Promise<FleetEntry[]> {
  const { ids, selector } = filter;
  const rows = await listServers(db, scope, { selector });
  return withLatest(db, ids ? rows.filter((row) => ids.has(row.id)) : rows);
}

/** These servers (whoever may see them), for the feed to filter per subscriber. */
export async function readFleetEntries(db: Db, ids: readonly string[]): Promise<FleetEntry[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select()
    .from(servers)
    .where(inArray(servers.id, [...ids]));
  return withLatest(db, rows);
}

/**
 * The ids of servers that may have changed since `since`: their row or provisioning job was
 * updated, their agent was seen, or a sample of theirs was received. The caller overlaps successive windows and compares
 * fingerprints, so a write that commits late is still seen and an unchanged server is not sent.
 */
export async function changedServerIds(db: Db, since: Date): Promise<string[]> {
  const at = since.toISOString();
  const result = await db.execute(sql`
    select id from servers
    where updated_at >= ${at}::timestamptz or last_seen_at >= ${at}::timestamptz
    union
    select distinct server_id as id from metric_samples where received_at >= ${at}::timestamptz
    union
    select server_id as id from provisioning_jobs where updated_at >= ${at}::timestamptz
    union
    select server_id as id from instances where updated_at >= ${at}::timestamptz`);
  return rowsOf<{ id: string }>(result).map((row) => row.id);
}

/** Every server id, to notice removals. */
export async function allServerIds(db: Db): Promise<Set<string>> {
  const rows = await db.select({ id: servers.id }).from(servers);
  return new Set(rows.map((row) => row.id));
}

/** What a subscriber must be told again when it differs: the row, last seen, newest sample, job, instances. */
export function fingerprintOf(entry: FleetEntry): string {
  const { server, latest, job, instances } = entry;
  return JSON.stringify([
    server.updatedAt.getTime(),
    server.status,
    server.statusReason,
    server.statusMessage,
    server.lastSeenAt?.getTime() ?? null,
    server.agentVersion,
    latest?.time.getTime() ?? null,
    job?.updatedAt.getTime() ?? null,
    job?.state ?? null,
    instances.count,
    instances.changedAt?.getTime() ?? null,
  ]);
}
