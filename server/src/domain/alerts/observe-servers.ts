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
    | {
        readonly collectedAt: Date;
        /** When the server stored it: against collectedAt, the host's clock skew (plus transit). */
        readonly receivedAt: Date;
        readonly values: SampleValues;
        readonly mounts: MountUse[];
        /** Names of the containers Docker shows restarting. */
        readonly restarting: string[];
      }
    | undefined;
  /** The newest result of each check the agent runs on the host, received after the sample cut-off. */
  readonly checks: readonly ObservedCheck[];
  /** The server's instances with an enabled backup schedule, and their last successful backup. */
  readonly backupSchedules: readonly ObservedBackupSchedule[];
  /** When the newest unrevoked agent certificate expires (null: none). */
  readonly certificateNotAfter: Date | null;
  /**
   * The fullest filesystem's trend over the last hour of 1-minute rollups (least-squares slope,
   * percent per second), when it is at least TREND_FROM_PERCENT full; undefined otherwise.
   */
  readonly diskTrend: { readonly percentPerSecond: number; readonly points: number } | undefined;
}

/** One stored agent check result (host_check_results), as the evaluator judges it. */
export interface ObservedCheck {
  readonly key: string;
  readonly subject: string;
  readonly state: string;
  readonly value: number | null;
  readonly message: string;
}

/** An instance's backup schedule, as the backup-freshness rule judges it. */
export interface ObservedBackupSchedule {
  readonly instanceName: string;
  /** The schedule's period: 24 h for a daily one, else its every-N-hours. */
  readonly periodSeconds: number;
  /** The newest completed backup of the instance (null: none yet). */
  readonly lastSuccessAt: Date | null;
  /** When the schedule was set up (the reference while no backup has completed yet). */
  readonly scheduledSince: Date;
}

/** Below this the fullest filesystem's trend is not computed (it would take days to fill). */
export const TREND_FROM_PERCENT = 50;
const TREND_WINDOW_MS = 3_600_000;

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
  const trendSince = new Date(input.now.getTime() - TREND_WINDOW_MS).toISOString();
  const result = await db.execute(sql`
    select s.id, s.name, s.tags, s.status, s.last_seen_at, m.*, t.slope, t.points,
      (select max(c.not_after) from agent_certificates c
        where c.server_id = s.id and c.revoked_at is null) as certificate_not_after,
      (select coalesce(jsonb_agg(jsonb_build_array(h.key, h.subject, h.state, h.value, h.message)), '[]'::jsonb)
        from host_check_results h
        where h.server_id = s.id and h.received_at >= ${since}::timestamptz) as checks,
      (select coalesce(jsonb_agg(jsonb_build_array(i.name, coalesce(bs.every_hours * 3600, 86400),
          (select max(b.completed_at) from backups b where b.instance_id = i.id and b.state = 'completed'),
          bs.created_at)), '[]'::jsonb)
        from backup_schedules bs join instances i on i.id = bs.instance_id
        where i.server_id = s.id and bs.enabled) as backup_schedules
    from servers s
    left join lateral (
      select collected_at, cpu_percent, load1, load5, load15, cpu_cores, memory_total, memory_used,
        memory_available, swap_total, swap_used, disk_used_percent, disk_read_bps, disk_write_bps,
        net_rx_bps, net_tx_bps, tcp_connections, containers_running, containers_restarting, received_at,
        detail -> 'fs' as fs,
        (select coalesce(jsonb_agg(c ->> 1), '[]'::jsonb) from jsonb_array_elements(detail -> 'containers') c
          where c ->> 2 = 'restarting') as restarting
      from metric_samples
      where server_id = s.id and collected_at >= ${since}::timestamptz
      order by collected_at desc limit 1
    ) m on true
    left join lateral (
      select regr_slope(r.disk_used_percent, extract(epoch from r.bucket)) as slope, count(*)::int as points
      from metric_rollups_1m r
      where r.server_id = s.id and r.bucket >= ${trendSince}::timestamptz
        and m.disk_used_percent >= ${TREND_FROM_PERCENT}
    ) t on true
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
          receivedAt: new Date(row.received_at as string | Date),
          values: sampleValues(row),
          mounts: mountsOf(row.fs),
          restarting: namesOf(row.restarting),
        }
      : undefined,
    checks: checksOf(row.checks),
    backupSchedules: schedulesOf(row.backup_schedules),
    certificateNotAfter: row.certificate_not_after
      ? new Date(row.certificate_not_after as string | Date)
      : null,
    diskTrend:
      row.slope === null || row.slope === undefined
        ? undefined
        : { percentPerSecond: Number(row.slope), points: Number(row.points) },
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

function namesOf(value: unknown): string[] {
  const names = (typeof value === "string" ? JSON.parse(value) : value) as unknown;
  return Array.isArray(names) ? names.filter((name): name is string => typeof name === "string") : [];
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

/** checks rows are [key, subject, state, value, message]. */
function checksOf(value: unknown): ObservedCheck[] {
  const rows = (typeof value === "string" ? JSON.parse(value) : value) as unknown;
  if (!Array.isArray(rows)) return [];
  return rows.flatMap((entry): ObservedCheck[] => {
    if (!Array.isArray(entry)) return [];
    const [key, subject, state, checkValue, message] = entry as [string, string, string, unknown, string];
    return [
      {
        key: String(key),
        subject: String(subject),
        state: String(state),
        value: checkValue === null || checkValue === undefined ? null : Number(checkValue),
        message: String(message),
      },
    ];
  });
}

/** backup_schedules rows are [instance name, period seconds, last success, scheduled since]. */
function schedulesOf(value: unknown): ObservedBackupSchedule[] {
  const rows = (typeof value === "string" ? JSON.parse(value) : value) as unknown;
  if (!Array.isArray(rows)) return [];
  return rows.flatMap((entry): ObservedBackupSchedule[] => {
    if (!Array.isArray(entry)) return [];
    const [name, period, last, since] = entry as [string, number, string | null, string];
    return [
      {
        instanceName: String(name),
        periodSeconds: Number(period),
        lastSuccessAt: last ? new Date(last) : null,
        scheduledSince: new Date(since),
      },
    ];
  });
}
