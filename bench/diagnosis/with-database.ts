// One diagnosis with its database reads: a PGlite database with one server holding 30 days of
// hourly rollups and 2 hours of raw samples every 10 s (720 samples with per-device detail),
// then gatherEvidence (the six reads) + buildReport, timed over several runs.

import { buildReport, createDatabase, gatherEvidence, rowsOf } from "@ocore/server/testing";
import { sql } from "drizzle-orm";

const GIB = 2 ** 30;
const HOUR = 3_600_000;
/** A number written into the statement (an untyped bind parameter would leave PostgreSQL guessing). */
const n = (value: number) => sql.raw(String(Math.round(value)));

export async function timeDiagnosisWithDatabase(runs = 10) {
  const database = createDatabase({ kind: "pglite" });
  await database.migrate();
  const db = database.db;
  const now = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  const [server] = rowsOf<{ id: string }>(
    await db.execute(
      sql`insert into servers (name, status, last_seen_at) values ('web-1', 'active', ${now.toISOString()}::timestamptz) returning id`,
    ),
  );
  const id = server?.id ?? "";
  await db.execute(sql`
    insert into metric_rollups_1h (server_id, bucket, samples, cpu_percent, cpu_percent_max, load1, load5, load15,
      memory_total, memory_used, memory_used_max, memory_available, swap_used, disk_used_percent, disk_read_bps,
      disk_write_bps, net_rx_bps, net_tx_bps, tcp_connections, containers_running, updated_at)
    select ${id}::uuid, ${now.toISOString()}::timestamptz - (h || ' hours')::interval, 360,
      20 + 15 * (extract(hour from ${now.toISOString()}::timestamptz - (h || ' hours')::interval) between 9 and 16)::int,
      50, 0.5, 0.5, 0.5, ${n(8 * GIB)}, ${n(3 * GIB)}, ${n(3 * GIB)}, ${n(5 * GIB)}, 0, 41, 0, 0, 0, 0, 40, 3, now()
    from generate_series(3, 720) h`);
  await db.execute(sql`
    insert into metric_samples (server_id, sequence, collected_at, received_at, cpu_percent, load1, load5, load15,
      cpu_cores, memory_total, memory_used, memory_available, memory_active, swap_total, swap_used, disk_used_percent,
      disk_read_bps, disk_write_bps, net_rx_bps, net_tx_bps, tcp_connections, containers_running, detail)
    select ${id}::uuid, i, ${now.toISOString()}::timestamptz - ((720 - i) * 10 || ' seconds')::interval, now(),
      20, 0.5, 0.5, 0.5, 2, ${n(8 * GIB)}, ${n(3 * GIB)}, ${n(5 * GIB)}, ${n(2 * GIB)}, 0, 0, 41 + greatest(0, i - 360) * 0.15, 0, 0, 0, 0, 40, 3,
      jsonb_build_object('cores', jsonb_build_array(20, 20), 'disks', '[]'::jsonb, 'nics', '[]'::jsonb,
        'fs', jsonb_build_array(jsonb_build_array('/', '/dev/sda1', 'ext4', ${n(100 * GIB)}, (${n(GIB)} * (41 + greatest(0, i - 360) * 0.15))::bigint, 0)),
        'containers', jsonb_build_array(jsonb_build_array('c1', 'odoo', 'running', 5, ${n(GIB)}, ${n(2 * GIB)})))
    from generate_series(1, 720) i`);
  const window = { from: new Date(now.getTime() - 2 * HOUR), to: now };
  const retention = { rawDays: 3, minuteDays: 30, hourDays: 395 };
  const times: number[] = [];
  let top = "";
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const evidence = await gatherEvidence(db, {
      server: { id, name: "web-1", status: "active", lastSeenAt: now },
      window,
      now,
      retention,
    });
    const report = buildReport("why is web-1 slow?", window, [evidence]);
    times.push(performance.now() - t0);
    top = report.findings[0]?.title ?? "(none)";
  }
  await database.close();
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)] ?? 0, maxMs: times[times.length - 1] ?? 0, top };
}
