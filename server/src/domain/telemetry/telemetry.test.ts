import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/support/test-databases.js";
import { readExposition } from "./read-exposition.js";
import { createServerTelemetry } from "./server-telemetry.js";

const dashboardPath = new URL("../../../../deploy/grafana/ocore-dashboard.json", import.meta.url);

/** Every expr in a Grafana dashboard (panels and, for completeness, nested rows). */
function exprsOf(dashboard: { panels: Array<Record<string, unknown>> }): string[] {
  const panels = dashboard.panels.flatMap((panel) => [
    panel,
    ...((panel.panels as typeof dashboard.panels) ?? []),
  ]);
  return panels.flatMap((panel) =>
    ((panel.targets as Array<{ expr?: string }>) ?? []).map((t) => t.expr ?? ""),
  );
}

/** Metric names in a PromQL expression: identifiers of our and Node's families, not functions or labels. */
function metricNamesIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:ocore|nodejs|process)_[a-z0-9_]+)\b/g)].map((match) => match[1] as string);
}

/**
 * The names an exposition declares: every `# TYPE` family (a histogram with its _bucket, _sum and
 * _count: labelled histograms such as GC time have no samples until the first GC) and every sample.
 */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type?.[1]) {
      names.add(type[1]);
      if (type[2] === "histogram" || type[2] === "summary") {
        for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${type[1]}${suffix}`);
      }
    } else if (line !== "" && !line.startsWith("#")) {
      names.add(/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? "");
    }
  }
  return names;
}

describe("server telemetry (domain) on PGlite", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase("pglite");
    await database.db.execute(sql`
      insert into servers (name, status) values ('a', 'active'), ('b', 'offline'), ('c', 'connecting')`);
  });
  afterAll(() => database?.close());

  it("caps per-server series at maxHosts and counts the rest", async () => {
    const snapshot = await readExposition(database.db, { maxHosts: 1, now: new Date() });
    expect(snapshot.hosts.map((host) => host.name)).toEqual(["a"]);
    expect(snapshot.hostsOmitted).toBe(2);
    expect(Object.fromEntries(snapshot.serversByStatus)).toEqual({ active: 1, offline: 1, connecting: 1 });
    const none = await readExposition(database.db, { maxHosts: 0, now: new Date() });
    expect(none.hosts).toEqual([]);
    expect(none.hostsOmitted).toBe(3);
  });

  it("the Grafana dashboard is valid JSON and every expr names a metric the server exports", async () => {
    const telemetry = createServerTelemetry({
      db: database.db,
      maxHostSeries: 10,
      dbPoolMax: undefined,
      now: () => new Date(),
    });
    // A write through the instrumented writer makes the ingest histogram's series exist.
    const writer = telemetry.instrumentWriter({
      rowsPerStatement: 1,
      write: async () => {},
      close: async () => {},
    });
    await writer.write("x", []);
    await database.db.execute(sql`
      insert into metric_samples (server_id, sequence, collected_at, received_at, cpu_percent, load1, load5, load15,
        cpu_cores, memory_total, memory_used, memory_available, memory_active, swap_total, swap_used, detail, disk_used_percent, disk_read_bps,
        disk_write_bps, net_rx_bps, net_tx_bps, tcp_connections, containers_running)
      select id, 1, now(), now(), 5, 1, 1, 1, 1, 100, 50, 50, 40, 0, 0, '{}'::jsonb, 10, 0, 0, 0, 0, 0, 2 from servers where name = 'a'`);
    const exported = exportedNames(await telemetry.render());
    const dashboard = JSON.parse(readFileSync(dashboardPath, "utf8"));
    const exprs = exprsOf(dashboard);
    expect(exprs.length).toBeGreaterThan(10);
    const unknown = exprs.flatMap((expr) => metricNamesIn(expr).filter((name) => !exported.has(name)));
    expect(unknown).toEqual([]);
    // The check itself can fail: a name the server does not export is caught.
    expect(metricNamesIn("rate(ocore_no_such_metric[5m])").filter((name) => !exported.has(name))).toEqual([
      "ocore_no_such_metric",
    ]);
  });
});
