import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { rowsOf } from "../../platform/db/rows-of.js";

/** One host's newest sample, as exported per server (only for the first `maxHosts` servers by name). */
export interface HostGauges {
  readonly serverId: string;
  readonly name: string;
  readonly status: string;
  readonly cpuPercent: number | undefined;
  readonly memoryUsedBytes: number | undefined;
  readonly memoryTotalBytes: number | undefined;
  readonly diskUsedPercent: number | undefined;
  readonly load1: number | undefined;
  readonly containersRunning: number | undefined;
}

/** What the fleet and the command queue look like now, read in one round of queries per scrape. */
export interface ExpositionSnapshot {
  /** Servers per lifecycle status (a handful of statuses: bounded). */
  readonly serversByStatus: ReadonlyMap<string, number>;
  readonly hosts: readonly HostGauges[];
  /** Servers left out of `hosts` because there are more than `maxHosts`. */
  readonly hostsOmitted: number;
  /** Commands per state, for the states still in the queue (queued, sent, running). */
  readonly commandsByState: ReadonlyMap<string, number>;
  /** Age of the oldest queued command, in seconds (0 when none waits). */
  readonly oldestQueuedSeconds: number;
  /** Median and 99th percentile of created → finished for commands finished in the last 5 minutes. */
  readonly recentCommandSeconds: { readonly p50: number; readonly p99: number; readonly count: number };
}

const OPEN_STATES = ["queued", "sent", "running"] as const;

const num = (value: unknown): number | undefined =>
  value === null || value === undefined ? undefined : Number(value);

/**
 * Reads what /metrics exports about the fleet. Per-host series are capped at `maxHosts` servers
 * (ordered by name, so the set is stable between scrapes); the status counts always cover all.
 */
export async function readExposition(
  db: Db,
  input: { readonly maxHosts: number; readonly now: Date },
): Promise<ExpositionSnapshot> {
  const statusRows = rowsOf<{ status: string; n: number | string }>(
    await db.execute(sql`select status, count(*) as n from servers group by status`),
  );
  const serversByStatus = new Map(statusRows.map((row) => [row.status, Number(row.n)]));
  const total = [...serversByStatus.values()].reduce((a, b) => a + b, 0);
  const hostRows =
    input.maxHosts === 0
      ? []
      : rowsOf<Record<string, unknown>>(
          await db.execute(sql`
            select s.id, s.name, s.status, m.cpu_percent, m.memory_used, m.memory_total,
              m.disk_used_percent, m.load1, m.containers_running
            from (select id, name, status from servers order by name, id limit ${input.maxHosts}) s
            left join lateral (
              select cpu_percent, memory_used, memory_total, disk_used_percent, load1, containers_running
              from metric_samples where server_id = s.id order by collected_at desc limit 1
            ) m on true
            order by s.name, s.id`),
        );
  const hosts = hostRows.map(
    (row): HostGauges => ({
      serverId: String(row.id),
      name: String(row.name),
      status: String(row.status),
      cpuPercent: num(row.cpu_percent),
      memoryUsedBytes: num(row.memory_used),
      memoryTotalBytes: num(row.memory_total),
      diskUsedPercent: num(row.disk_used_percent),
      load1: num(row.load1),
      containersRunning: num(row.containers_running),
    }),
  );
  const stateRows = rowsOf<{ state: string; n: number | string; oldest: string | Date | null }>(
    await db.execute(sql`
      select state, count(*) as n, min(created_at) as oldest from commands
      where state in ('queued', 'sent', 'running') group by state`),
  );
  const commandsByState = new Map<string, number>(OPEN_STATES.map((state) => [state, 0]));
  let oldestQueuedSeconds = 0;
  for (const row of stateRows) {
    commandsByState.set(row.state, Number(row.n));
    if (row.state === "queued" && row.oldest) {
      oldestQueuedSeconds = Math.max(0, (input.now.getTime() - new Date(row.oldest).getTime()) / 1000);
    }
  }
  const since = new Date(input.now.getTime() - 5 * 60_000).toISOString();
  const [latency] = rowsOf<{ p50: number | null; p99: number | null; n: number | string }>(
    await db.execute(sql`
      select
        percentile_cont(0.5) within group (order by extract(epoch from finished_at - created_at)) as p50,
        percentile_cont(0.99) within group (order by extract(epoch from finished_at - created_at)) as p99,
        count(*) as n
      from commands where finished_at >= ${since}::timestamptz`),
  );
  return {
    serversByStatus,
    hosts,
    hostsOmitted: Math.max(0, total - hosts.length),
    commandsByState,
    oldestQueuedSeconds,
    recentCommandSeconds: {
      p50: Number(latency?.p50 ?? 0),
      p99: Number(latency?.p99 ?? 0),
      count: Number(latency?.n ?? 0),
    },
  };
}
