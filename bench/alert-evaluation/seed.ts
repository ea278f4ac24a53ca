// Seeds a fleet for the alert benchmark straight in SQL (set-based: 10,000 servers in a second).
import type { createDatabase } from "@ocore/server/testing";

type Db = ReturnType<typeof createDatabase>["db"];

/**
 * N active servers (`srv-00001`…), the first F of them "hot" (their host says so), one webhook
 * channel (so firing alerts queue outbox rows) and one user rule on every server.
 */
export async function seedFleet(
  db: Db,
  input: { readonly servers: number; readonly firing: number; readonly now: Date },
): Promise<void> {
  const at = input.now.toISOString();
  await db.execute(`
    insert into servers (name, host, status, tags, last_seen_at)
    select 'srv-' || lpad(i::text, 6, '0'),
      case when i <= ${input.firing} then 'hot-' else 'cold-' end || i,
      'active', jsonb_build_object('env', case when i % 2 = 0 then 'prod' else 'test' end),
      '${at}'::timestamptz
    from generate_series(1, ${input.servers}) as i`);
  await db.execute(`
    insert into alert_channels (name, kind, config)
    values ('bench hook', 'webhook', '{"url": "http://127.0.0.1:9/hook"}'::jsonb)`);
  await db.execute(`
    insert into alert_rules (name, metric, selector, comparison, threshold, for_seconds,
      keep_firing_for_seconds, severity, created_by)
    values ('memory high', 'memory_used_percent', '', '>', 95, 60, 0, 'warning', 'bench')`);
}

let sequence = 0;

/** One fresh sample per server at `now`: mounts /, /var and /srv; "/" of hot servers at `firingPercent`. */
export async function writeSamples(
  db: Db,
  input: { readonly now: Date; readonly firingPercent: number; readonly firing: number },
): Promise<void> {
  sequence += 1;
  const total = 100 * 2 ** 30;
  const at = input.now.toISOString();
  await db.execute(`
    insert into metric_samples (server_id, sequence, collected_at, received_at, cpu_percent, load1,
      load5, load15, cpu_cores, memory_total, memory_used, memory_available, memory_active,
      swap_total, swap_used, disk_used_percent, disk_read_bps, disk_write_bps, net_rx_bps,
      net_tx_bps, tcp_connections, containers_running, containers_paused, containers_stopped,
      containers_restarting, detail)
    select s.id, ${sequence}, '${at}', '${at}', 12.5, 0.4, 0.3, 0.2, 4, ${8 * 2 ** 30}, ${2 ** 31},
      ${6 * 2 ** 30}, ${2 ** 31}, ${2 ** 30}, 0, h.root, 1000, 2000, 3000, 4000, 40, 3, 0, 0, 0,
      jsonb_build_object(
        'cores', jsonb_build_array(10, 12, 14, 13),
        'fs', jsonb_build_array(
          jsonb_build_array('/', '/dev/vda1', 'ext4', ${total}, round(${total} * h.root / 100), round(${total} * (100 - h.root) / 100)),
          jsonb_build_array('/var', '/dev/vdb1', 'ext4', ${total}, ${total * 0.4}, ${total * 0.6}),
          jsonb_build_array('/srv', '/dev/vdc1', 'xfs', ${total}, ${total * 0.3}, ${total * 0.7})),
        'disks', '[]'::jsonb, 'nics', '[]'::jsonb, 'containers', '[]'::jsonb)
    from servers s
    cross join lateral (select case when s.host like 'hot-%' then ${input.firingPercent}::float8 else 50::float8 end as root) h`);
  await db.execute(`update servers set last_seen_at = '${at}'::timestamptz`);
}
