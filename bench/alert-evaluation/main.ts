// Alert rule evaluation at fleet scale: N servers with a fresh sample each (three mounts), F of
// them with "/" past the critical disk threshold, evaluated with the built-in rules (and one user
// rule on every server) on PGlite and on PostgreSQL. Each case runs the cycles a real fleet goes
// through: the first one (F alerts become pending), the one where they fire (F transitions and
// their outbox rows), steady cycles (nothing changes, values do), and the one where they all
// resolve. Prints wall time and CPU (this process, and PostgreSQL's backends) per cycle.
// Run with `npm run bench:alerts`; arguments pick cases, e.g. `-- pglite:2000:200 postgres:10000:1000`.

import { createDatabase, defaultBuiltinRuleSettings, evaluateAlerts, rowsOf } from "@ocore/server/testing";
import { startCluster } from "@ocore/server/testing/postgres-cluster";
import { findPostmaster, postgresCpuSeconds } from "../agent-fleet/proc-stats.ts";
import { seedFleet, writeSamples } from "./seed.ts";

type Kind = "pglite" | "postgres";
interface Case {
  readonly kind: Kind;
  readonly servers: number;
  readonly firing: number;
}

const STEADY_CYCLES = Number(process.env.BENCH_STEADY ?? 5);
const settings = { ...defaultBuiltinRuleSettings, diskForSeconds: 60 };

function parseCases(args: readonly string[]): Case[] {
  const given =
    args.length > 0
      ? args
      : ["pglite:2000:200", "pglite:10000:1000", "postgres:2000:200", "postgres:10000:1000"];
  return given.map((arg) => {
    const [kind, servers, firing] = arg.split(":");
    if (kind !== "pglite" && kind !== "postgres") throw new Error(`unknown engine in ${arg}`);
    return { kind, servers: Number(servers), firing: Number(firing ?? Math.round(Number(servers) / 10)) };
  });
}

interface Measured {
  readonly label: string;
  readonly ms: number;
  readonly nodeCpuMs: number;
  readonly pgCpuMs: number;
  readonly events: number;
  readonly notifications: number;
}

async function runCase(c: Case, pgUrl: string | undefined): Promise<Measured[]> {
  const database =
    c.kind === "pglite"
      ? createDatabase({ kind: "pglite" })
      : createDatabase({ kind: "postgres", url: pgUrl as string, poolSize: 4 });
  await database.migrate();
  const db = database.db;
  const postmaster = pgUrl ? findPostmaster(Number(new URL(pgUrl).port)) : undefined;
  let now = new Date("2026-12-07T12:00:00Z");
  await seedFleet(db, { servers: c.servers, firing: c.firing, now });
  const results: Measured[] = [];
  const cycle = async (label: string) => {
    await writeSamples(db, { now, firingPercent: label.startsWith("resolve") ? 40 : 95, firing: c.firing });
    const cpu0 = process.cpuUsage();
    const pg0 = postmaster ? postgresCpuSeconds(postmaster) : 0;
    const t0 = performance.now();
    const result = await evaluateAlerts(db, { now, settings, maxSampleAgeMs: 120_000 });
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    // Backends that exit meanwhile (autovacuum) take their CPU time with them: never below 0.
    const pgCpuMs = postmaster ? Math.max(0, (postgresCpuSeconds(postmaster) - pg0) * 1000) : 0;
    results.push({
      label,
      ms,
      nodeCpuMs: (cpu.user + cpu.system) / 1000,
      pgCpuMs,
      events: result.events,
      notifications: result.notifications,
    });
    now = new Date(now.getTime() + 10_000);
  };
  await cycle("first (pending)");
  now = new Date(now.getTime() + 60_000);
  await cycle("fire");
  for (let i = 0; i < STEADY_CYCLES; i += 1) await cycle(`steady ${i + 1}`);
  await cycle("resolve");
  const [count] = rowsOf<{ n: number }>(
    await db.execute("select count(*)::int as n from alert_notifications"),
  );
  process.stderr.write(`  ${c.kind} ${c.servers}/${c.firing}: ${count?.n} outbox rows\n`);
  await database.close();
  return results;
}

const cases = parseCases(process.argv.slice(2));
const cluster = cases.some((c) => c.kind === "postgres") ? await startCluster() : undefined;
try {
  for (const c of cases) {
    const url = cluster ? await freshDatabase(cluster.url) : undefined;
    const rows = await runCase(c, url);
    const steady = rows.filter((row) => row.label.startsWith("steady"));
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    console.log(`\n${c.kind}, ${c.servers} servers, ${c.firing} firing`);
    console.log("cycle               wall ms   node CPU ms   PG CPU ms   events   outbox rows");
    for (const row of rows) {
      console.log(
        `${row.label.padEnd(18)} ${row.ms.toFixed(0).padStart(8)} ${row.nodeCpuMs.toFixed(0).padStart(13)} ${row.pgCpuMs.toFixed(0).padStart(11)} ${String(row.events).padStart(8)} ${String(row.notifications).padStart(13)}`,
      );
    }
    const wall = median(steady.map((row) => row.ms));
    const cpu = median(steady.map((row) => row.nodeCpuMs + row.pgCpuMs));
    console.log(
      `steady median: ${wall.toFixed(0)} ms wall, ${cpu.toFixed(0)} ms CPU (${((1000 * cpu) / c.servers).toFixed(1)} µs CPU per server)`,
    );
  }
} finally {
  await cluster?.stop();
}

async function freshDatabase(adminUrl: string): Promise<string> {
  const admin = createDatabase({ kind: "postgres", url: adminUrl, poolSize: 1 });
  const name = `bench_alerts_${Date.now()}`;
  await admin.db.execute(`create database ${name}`);
  await admin.close();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
