import {
  bigint,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";
import { servers } from "./servers.js";

/** Per-device detail of one raw sample, kept compact: one jsonb value per host-interval. */
export interface SampleDetail {
  /** Usage per logical CPU, percent. */
  readonly cores: readonly number[];
  /** [mount, device, fsType, totalBytes, usedBytes, availableBytes] */
  readonly fs: ReadonlyArray<readonly [string, string, string, number, number, number]>;
  /** [device, readBytes/s, writeBytes/s, reads/s, writes/s] */
  readonly disks: ReadonlyArray<readonly [string, number, number, number, number]>;
  /** [name, rxBytes/s, txBytes/s] */
  readonly nics: ReadonlyArray<readonly [string, number, number]>;
  /** [id, name, state, cpuPercent, memoryBytes, memoryLimitBytes] */
  readonly containers: ReadonlyArray<readonly [string, string, string, number, number, number]>;
}

/**
 * Raw samples: one row per host per interval. Host-level values are typed columns (cheap to
 * scan, roll up and compare across the fleet); per-device values sit in one compact jsonb
 * column. (server_id, sequence) is the primary key, which is what de-duplicates replays.
 */
export const metricSamples = pgTable(
  "metric_samples",
  {
    serverId: uuid("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    sequence: bigint("sequence", { mode: "number" }).notNull(),
    collectedAt: timestamp("collected_at", { withTimezone: true }).notNull(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull(),
    cpuPercent: real("cpu_percent").notNull(),
    load1: real("load1").notNull(),
    load5: real("load5").notNull(),
    load15: real("load15").notNull(),
    cpuCores: integer("cpu_cores").notNull(),
    memoryTotal: bigint("memory_total", { mode: "number" }).notNull(),
    memoryUsed: bigint("memory_used", { mode: "number" }).notNull(),
    memoryAvailable: bigint("memory_available", { mode: "number" }).notNull(),
    memoryActive: bigint("memory_active", { mode: "number" }).notNull(),
    swapTotal: bigint("swap_total", { mode: "number" }).notNull(),
    swapUsed: bigint("swap_used", { mode: "number" }).notNull(),
    /** The fullest filesystem's used share, percent. */
    diskUsedPercent: real("disk_used_percent").notNull(),
    /** Sums over the reported block devices and NICs. */
    diskReadBps: doublePrecision("disk_read_bps").notNull(),
    diskWriteBps: doublePrecision("disk_write_bps").notNull(),
    netRxBps: doublePrecision("net_rx_bps").notNull(),
    netTxBps: doublePrecision("net_tx_bps").notNull(),
    tcpConnections: integer("tcp_connections").notNull(),
    /** Null when the host has no answering Docker. */
    containersRunning: integer("containers_running"),
    containersPaused: integer("containers_paused"),
    containersStopped: integer("containers_stopped"),
    containersRestarting: integer("containers_restarting"),
    detail: jsonb("detail").$type<SampleDetail>().notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.serverId, table.sequence] }),
    index("metric_samples_server_time").on(table.serverId, table.collectedAt),
    index("metric_samples_received").on(table.receivedAt),
  ],
);

function rollupColumns() {
  return {
    serverId: uuid("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    bucket: timestamp("bucket", { withTimezone: true }).notNull(),
    samples: integer("samples").notNull(),
    cpuPercent: real("cpu_percent").notNull(),
    cpuPercentMax: real("cpu_percent_max").notNull(),
    load1: real("load1").notNull(),
    load5: real("load5").notNull(),
    load15: real("load15").notNull(),
    memoryTotal: bigint("memory_total", { mode: "number" }).notNull(),
    memoryUsed: bigint("memory_used", { mode: "number" }).notNull(),
    memoryUsedMax: bigint("memory_used_max", { mode: "number" }).notNull(),
    memoryAvailable: bigint("memory_available", { mode: "number" }).notNull(),
    swapUsed: bigint("swap_used", { mode: "number" }).notNull(),
    diskUsedPercent: real("disk_used_percent").notNull(),
    diskReadBps: doublePrecision("disk_read_bps").notNull(),
    diskWriteBps: doublePrecision("disk_write_bps").notNull(),
    netRxBps: doublePrecision("net_rx_bps").notNull(),
    netTxBps: doublePrecision("net_tx_bps").notNull(),
    tcpConnections: real("tcp_connections").notNull(),
    containersRunning: real("containers_running"),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
  };
}

/** 1-minute rollups of metric_samples (averages, with maxima where peaks matter). */
export const metricRollupsMinute = pgTable("metric_rollups_1m", rollupColumns(), (table) => [
  primaryKey({ columns: [table.serverId, table.bucket] }),
  index("metric_rollups_1m_updated").on(table.updatedAt),
]);

/** 1-hour rollups, computed from the 1-minute rollups weighted by their sample counts. */
export const metricRollupsHour = pgTable("metric_rollups_1h", rollupColumns(), (table) => [
  primaryKey({ columns: [table.serverId, table.bucket] }),
  index("metric_rollups_1h_bucket").on(table.bucket),
]);

/** How far each rollup tier has read its source (by received_at / updated_at). */
export const metricRollupState = pgTable("metric_rollup_state", {
  tier: text("tier").primaryKey(),
  watermark: timestamp("watermark", { withTimezone: true }).notNull(),
});
