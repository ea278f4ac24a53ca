import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { rowsOf } from "../../platform/db/rows-of.js";

export interface MetricsRetention {
  readonly rawDays: number;
  readonly minuteDays: number;
  readonly hourDays: number;
}

const DAY_MS = 86_400_000;
/** Re-reads this much before the watermark: transactions commit out of received_at order. */
const OVERLAP_MS = 2 * 60_000;
const ROLLUP_LOCK_ID = 0x6f636f7266; // one rollup run at a time across replicas
const ORIGIN = sql`timestamptz '2000-01-01 00:00:00+00'`;

/**
 * Brings the 1-minute and 1-hour rollups up to date. Each tier recomputes, from its source,
 * every bucket that received data since its watermark, so late samples (replayed from an
 * agent's spool) and re-runs give the same result. Buckets older than the raw retention are
 * left alone: their raw samples may be gone. Returns false when another replica is running it.
 */
export async function runRollups(
  db: Db,
  input: { readonly now: Date; readonly retention: MetricsRetention },
) {
  return db.transaction(async (tx) => {
    const locked = rowsOf<{ locked: boolean }>(
      await tx.execute(sql`select pg_try_advisory_xact_lock(${ROLLUP_LOCK_ID}) as locked`),
    )[0]?.locked;
    if (!locked) return false;
    const now = input.now;
    const rawCutoff = new Date(now.getTime() - input.retention.rawDays * DAY_MS);

    const minuteFrom = await watermark(tx as unknown as Db, "minute");
    await tx.execute(sql`
      insert into metric_rollups_1m as r (server_id, bucket, samples, cpu_percent, cpu_percent_max, load1, load5,
        load15, memory_total, memory_used, memory_used_max, memory_available, swap_used, disk_used_percent,
        disk_read_bps, disk_write_bps, net_rx_bps, net_tx_bps, tcp_connections, containers_running, updated_at)
      select s.server_id, t.bucket, count(*), avg(s.cpu_percent), max(s.cpu_percent), avg(s.load1), avg(s.load5),
        avg(s.load15), max(s.memory_total), avg(s.memory_used)::bigint, max(s.memory_used),
        avg(s.memory_available)::bigint, avg(s.swap_used)::bigint, max(s.disk_used_percent), avg(s.disk_read_bps),
        avg(s.disk_write_bps), avg(s.net_rx_bps), avg(s.net_tx_bps), avg(s.tcp_connections),
        avg(s.containers_running), ${now.toISOString()}::timestamptz
      from (
        select distinct server_id, date_bin('1 minute', collected_at, ${ORIGIN}) as bucket
        from metric_samples
        where received_at > ${new Date(minuteFrom.getTime() - OVERLAP_MS).toISOString()}::timestamptz and received_at <= ${now.toISOString()}::timestamptz
      ) t
      join metric_samples s on s.server_id = t.server_id
        and s.collected_at >= t.bucket and s.collected_at < t.bucket + interval '1 minute'
      where t.bucket >= ${rawCutoff.toISOString()}::timestamptz
      group by s.server_id, t.bucket
      on conflict (server_id, bucket) do update set ${updateAll}`);
    await setWatermark(tx as unknown as Db, "minute", now);

    const hourFrom = await watermark(tx as unknown as Db, "hour");
    await tx.execute(sql`
      insert into metric_rollups_1h as r (server_id, bucket, samples, cpu_percent, cpu_percent_max, load1, load5,
        load15, memory_total, memory_used, memory_used_max, memory_available, swap_used, disk_used_percent,
        disk_read_bps, disk_write_bps, net_rx_bps, net_tx_bps, tcp_connections, containers_running, updated_at)
      select m.server_id, t.bucket, sum(m.samples), ${weighted("cpu_percent")}, max(m.cpu_percent_max),
        ${weighted("load1")}, ${weighted("load5")}, ${weighted("load15")}, max(m.memory_total),
        (${weighted("memory_used")})::bigint, max(m.memory_used_max), (${weighted("memory_available")})::bigint,
        (${weighted("swap_used")})::bigint, max(m.disk_used_percent), ${weighted("disk_read_bps")},
        ${weighted("disk_write_bps")}, ${weighted("net_rx_bps")}, ${weighted("net_tx_bps")},
        ${weighted("tcp_connections")},
        sum(m.containers_running * m.samples) / nullif(sum(m.samples) filter (where m.containers_running is not null), 0),
        ${now.toISOString()}::timestamptz
      from (
        select distinct server_id, date_bin('1 hour', bucket, ${ORIGIN}) as bucket
        from metric_rollups_1m
        where updated_at > ${new Date(hourFrom.getTime() - OVERLAP_MS).toISOString()}::timestamptz and updated_at <= ${now.toISOString()}::timestamptz
      ) t
      join metric_rollups_1m m on m.server_id = t.server_id
        and m.bucket >= t.bucket and m.bucket < t.bucket + interval '1 hour'
      group by m.server_id, t.bucket
      on conflict (server_id, bucket) do update set ${updateAll}`);
    await setWatermark(tx as unknown as Db, "hour", now);
    return true;
  });
}

function weighted(column: string) {
  return sql.raw(`sum(m.${column} * m.samples) / sum(m.samples)`);
}

const updateAll = sql.raw(
  [
    "samples",
    "cpu_percent",
    "cpu_percent_max",
    "load1",
    "load5",
    "load15",
    "memory_total",
    "memory_used",
    "memory_used_max",
    "memory_available",
    "swap_used",
    "disk_used_percent",
    "disk_read_bps",
    "disk_write_bps",
    "net_rx_bps",
    "net_tx_bps",
    "tcp_connections",
    "containers_running",
    "updated_at",
  ]
    .map((column) => `${column} = excluded.${column}`)
    .join(", "),
);

async function watermark(db: Db, tier: string): Promise<Date> {
  const [row] = rowsOf<{ watermark: Date | string }>(
    await db.execute(sql`select watermark from metric_rollup_state where tier = ${tier}`),
  );
  return row ? new Date(row.watermark) : new Date(0);
}

async function setWatermark(db: Db, tier: string, at: Date): Promise<void> {
  await db.execute(sql`
    insert into metric_rollup_state (tier, watermark) values (${tier}, ${at.toISOString()}::timestamptz)
    on conflict (tier) do update set watermark = excluded.watermark`);
}

/** Deletes what is older than each tier's retention. Returns the number of rows deleted per tier. */
export async function applyRetention(
  db: Db,
  input: { readonly now: Date; readonly retention: MetricsRetention },
) {
  const cutoff = (days: number) => new Date(input.now.getTime() - days * DAY_MS);
  const count = (result: unknown) => rowsOf<{ n: number }>(result)[0]?.n ?? 0;
  const raw = await db.execute(sql`
    with d as (delete from metric_samples where received_at < ${cutoff(input.retention.rawDays).toISOString()}::timestamptz returning 1)
    select count(*)::int as n from d`);
  const minute = await db.execute(sql`
    with d as (delete from metric_rollups_1m where updated_at < ${cutoff(input.retention.minuteDays).toISOString()}::timestamptz returning 1)
    select count(*)::int as n from d`);
  const hour = await db.execute(sql`
    with d as (delete from metric_rollups_1h where bucket < ${cutoff(input.retention.hourDays).toISOString()}::timestamptz returning 1)
    select count(*)::int as n from d`);
  return { raw: count(raw), minute: count(minute), hour: count(hour) };
}
