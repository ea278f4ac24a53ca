import { and, asc, inArray, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { instances } from "../../platform/db/schema/instances.js";
import { provisioningJobs } from "../../platform/db/schema/provisioning.js";
import { servers } from "../../platform/db/schema/servers.js";
import type { Scope } from "../auth/principal.js";
import type { Selector } from "../auth/selector.js";
import { selectorCondition } from "../auth/selector-sql.js";
import { getLatestSnapshots, MAX_SNAPSHOT_SERVERS } from "../metrics/get-latest-snapshots.js";
import type { SeriesPoint } from "../metrics/get-series.js";
import type { ServerCountCache } from "../servers/server-counts.js";
import { listServerPage, type ServerPage, type ServerPageInput } from "../servers/server-page.js";
import { type ServerRow, scopeCondition } from "../servers/servers.js";

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

/**
 * What a watcher follows; every kind is bounded, so a watcher costs the same at 10 and 100,000
 * servers: named servers (at most 1000), one ListServers page (at most its maximum page size), or
 * the first `limit` servers by name; the first and the last optionally only those a selector matches.
 */
export type FleetWindowSpec =
  | { readonly kind: "ids"; readonly ids: readonly string[]; readonly selector?: Selector }
  | { readonly kind: "page"; readonly page: ServerPageInput }
  | { readonly kind: "first"; readonly selector?: Selector; readonly limit: number };

/** A window as it is now: its servers in order and, for a page, what ListServers tells with it. */
export interface FleetWindow {
  readonly rows: readonly ServerRow[];
  readonly page?: Omit<ServerPage, "rows">;
}

/** The servers of a window that the scope lets the caller see, in the window's order. */
export async function readWindow(
  db: Db,
  scope: Scope,
  spec: FleetWindowSpec,
  counts?: { readonly cache: ServerCountCache; readonly reuse: boolean },
): Promise<FleetWindow> {
  if (spec.kind === "page") {
    const { rows, ...page } = await listServerPage(db, scope, spec.page, {
      counts: counts?.cache,
      reuseOnFirstPage: counts?.reuse,
    });
    return { rows, page };
  }
  if (spec.kind === "ids" && spec.ids.length === 0) return { rows: [] };
  const rows = await db
    .select()
    .from(servers)
    .where(
      and(
        scopeCondition(scope),
        spec.kind === "ids" ? inArray(servers.id, [...spec.ids]) : undefined,
        spec.selector ? selectorCondition(servers.tags, spec.selector) : undefined,
      ),
    )
    .orderBy(asc(servers.name))
    .limit(spec.kind === "first" ? spec.limit : spec.ids.length);
  return { rows };
}

/** These servers with their newest sample, job and instances, in the order given. */
export async function readFleetEntries(db: Db, rows: readonly ServerRow[]): Promise<FleetEntry[]> {
  return rows.length === 0 ? [] : withLatest(db, rows);
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
