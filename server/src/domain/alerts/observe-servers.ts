import { sql } from "drizzle-orm";
import { rowsOf } from "../../platform/db/rows-of.js";
import type { Queryable } from "../../platform/db/transaction.js";
import type { Tags } from "../auth/selector.js";
import type { SampleValues } from "./metric-catalogue.js";

/** A mount's use in the newest sample: [mount, used percent]. */
export type MountUse = readonly [mount: string, usedPercent: number];

/** What the evaluator knows about one watched server in one cycle. */
export interface ServerObservation {
  readonly serverId: string;
  readonly name: string;
  readonly tags: Tags;
  readonly offline: boolean;
  readonly lastSeenAt: Date | null;
  /** The newest sample when it is fresh enough to judge by; undefined otherwise. */
  readonly sample:
    | { readonly collectedAt: Date; readonly values: SampleValues; readonly mounts: MountUse[] }
    | undefined;
}

/**
 * Every server alerts watch (active or offline: the others are still being onboarded or removed)
 * with its newest raw sample collected after `now - maxSampleAgeMs`, in one query (an index
 * lookup per server on metric_samples (server_id, collected_at)).
 */
export async function observeServers(
  db: Queryable,
  input: { readonly now: Date; readonly maxSampleAgeMs: number },
): Promise<ServerObservation[]> {
  const since = new Date(input.now.getTime() - input.maxSampleAgeMs).toISOString();
  const result = await db.execute(sql`
    select s.id, s.name, s.tags, s.status, s.last_seen_at, m.*
    from servers s
    left join lateral (
      select collected_at, cpu_percent, load1, load5, load15, cpu_cores, memory_total, memory_used,
        memory_available, swap_total, swap_used, disk_used_percent, disk_read_bps, disk_write_bps,
        net_rx_bps, net_tx_bps, tcp_connections, containers_running, containers_restarting, detail -> 'fs' as fs
      from metric_samples
      where server_id = s.id and collected_at >= ${since}::timestamptz
      order by collected_at desc limit 1
    ) m on true
    where s.status in ('active', 'offline')
    order by s.id`);
  return rowsOf<Record<string, unknown>>(result).map((row) => ({
    serverId: row.id as string,
    name: row.name as string,
    tags: (typeof row.tags === "string" ? JSON.parse(row.tags) : row.tags) as Tags,
    offline: row.status === "offline",
    lastSeenAt: row.last_seen_at ? new Date(row.last_seen_at as string | Date) : null,
    sample: row.collected_at
      ? {
          collectedAt: new Date(row.collected_at as string | Date),
          values: sampleValues(row),
          mounts: mountsOf(row.fs),
        }
      : undefined,
  }));
}

const num = (value: unknown) => Number(value);
const nullable = (value: unknown) => (value === null || value === undefined ? null : Number(value));

function sampleValues(row: Record<string, unknown>): SampleValues {
  return {
    cpu_percent: num(row.cpu_percent),
    load1: num(row.load1),
    load5: num(row.load5),
    load15: num(row.load15),
    cpu_cores: num(row.cpu_cores),
    memory_total: num(row.memory_total),
    memory_used: num(row.memory_used),
    memory_available: num(row.memory_available),
    swap_total: num(row.swap_total),
    swap_used: num(row.swap_used),
    disk_used_percent: num(row.disk_used_percent),
    disk_read_bps: num(row.disk_read_bps),
    disk_write_bps: num(row.disk_write_bps),
    net_rx_bps: num(row.net_rx_bps),
    net_tx_bps: num(row.net_tx_bps),
    tcp_connections: num(row.tcp_connections),
    containers_running: nullable(row.containers_running),
    containers_restarting: nullable(row.containers_restarting),
  };
}

/** detail.fs rows are [mount, device, fsType, total, used, available]. */
function mountsOf(value: unknown): MountUse[] {
  const fs = (typeof value === "string" ? JSON.parse(value) : value) as unknown;
  if (!Array.isArray(fs)) return [];
  return fs.flatMap((entry): MountUse[] => {
    if (!Array.isArray(entry)) return [];
    const [mount, , , total, used] = entry as [string, string, string, number, number];
    return typeof mount === "string" && Number(total) > 0
      ? [[mount, (100 * Number(used)) / Number(total)]]
      : [];
  });
}
