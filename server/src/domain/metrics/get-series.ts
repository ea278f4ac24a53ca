import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { isUuid } from "../../platform/db/is-uuid.js";
import { rowsOf } from "../../platform/db/rows-of.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { MetricsRetention } from "./rollups.js";

export type Resolution = "raw" | "minute" | "hour";

/** One point of a host series: an average over `samples` samples, with maxima where peaks matter. */
export interface SeriesPoint {
  readonly time: Date;
  readonly samples: number;
  readonly cpuPercent: number;
  readonly cpuPercentMax: number;
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
  readonly memoryTotal: number;
  readonly memoryUsed: number;
  readonly memoryUsedMax: number;
  readonly memoryAvailable: number;
  readonly swapUsed: number;
  readonly diskUsedPercent: number;
  readonly diskReadBps: number;
  readonly diskWriteBps: number;
  readonly netRxBps: number;
  readonly netTxBps: number;
  readonly tcpConnections: number;
  readonly containersRunning: number | null;
}

export interface Series {
  readonly resolution: Resolution;
  readonly points: SeriesPoint[];
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Automatic resolution keeps a series near or below ~1,500 points at the default interval. */
const RAW_UP_TO_MS = 4 * HOUR_MS;
const MINUTE_UP_TO_MS = DAY_MS;
const MAX_POINTS = 20_000;

/**
 * Chooses the finest tier that still holds the whole range and keeps the series small: raw up to
 * 4 hours, 1-minute rollups up to a day, 1-hour rollups beyond.
 */
export function chooseResolution(from: Date, to: Date, now: Date, retention: MetricsRetention): Resolution {
  const span = to.getTime() - from.getTime();
  const age = now.getTime() - from.getTime();
  if (span <= RAW_UP_TO_MS && age <= retention.rawDays * DAY_MS) return "raw";
  if (span <= MINUTE_UP_TO_MS && age <= retention.minuteDays * DAY_MS) return "minute";
  return "hour";
}

export async function getSeries(
  db: Db,
  input: {
    readonly serverId: string;
    readonly from: Date;
    readonly to: Date;
    readonly resolution?: Resolution;
    readonly now: Date;
    readonly retention: MetricsRetention;
  },
): Promise<Series> {
  if (!isUuid(input.serverId)) throw AppError.invalid("serverId", "must be a server's id (a UUID)");
  if (!(input.from.getTime() < input.to.getTime())) {
    throw AppError.invalid("startTime", "must be before endTime");
  }
  const resolution = input.resolution ?? chooseResolution(input.from, input.to, input.now, input.retention);
  const query =
    resolution === "raw"
      ? sql`
        select collected_at as time, 1 as samples, cpu_percent, cpu_percent as cpu_percent_max, load1, load5, load15,
          memory_total, memory_used, memory_used as memory_used_max, memory_available, swap_used, disk_used_percent,
          disk_read_bps, disk_write_bps, net_rx_bps, net_tx_bps, tcp_connections, containers_running
        from metric_samples
        where server_id = ${input.serverId}::uuid and collected_at >= ${input.from.toISOString()}::timestamptz and collected_at < ${input.to.toISOString()}::timestamptz
        order by collected_at limit ${MAX_POINTS}`
      : sql`
        select bucket as time, samples, cpu_percent, cpu_percent_max, load1, load5, load15, memory_total,
          memory_used, memory_used_max, memory_available, swap_used, disk_used_percent, disk_read_bps,
          disk_write_bps, net_rx_bps, net_tx_bps, tcp_connections, containers_running
        from ${sql.raw(resolution === "minute" ? "metric_rollups_1m" : "metric_rollups_1h")}
        where server_id = ${input.serverId}::uuid and bucket >= ${input.from.toISOString()}::timestamptz and bucket < ${input.to.toISOString()}::timestamptz
        order by bucket limit ${MAX_POINTS}`;
  const rows = rowsOf<Record<string, unknown>>(await db.execute(query));
  return { resolution, points: rows.map(toPoint) };
}

export function toPoint(row: Record<string, unknown>): SeriesPoint {
  const n = (key: string) => Number(row[key] ?? 0);
  return {
    time: new Date(row.time as string | Date),
    samples: n("samples"),
    cpuPercent: n("cpu_percent"),
    cpuPercentMax: n("cpu_percent_max"),
    load1: n("load1"),
    load5: n("load5"),
    load15: n("load15"),
    memoryTotal: n("memory_total"),
    memoryUsed: n("memory_used"),
    memoryUsedMax: n("memory_used_max"),
    memoryAvailable: n("memory_available"),
    swapUsed: n("swap_used"),
    diskUsedPercent: n("disk_used_percent"),
    diskReadBps: n("disk_read_bps"),
    diskWriteBps: n("disk_write_bps"),
    netRxBps: n("net_rx_bps"),
    netTxBps: n("net_tx_bps"),
    tcpConnections: n("tcp_connections"),
    containersRunning: row.containers_running === null ? null : n("containers_running"),
  };
}
