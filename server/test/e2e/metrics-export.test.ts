import { execFile } from "node:child_process";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MetricSampleInput } from "../../src/domain/metrics/metric-sample.js";
import { createMetricWriter } from "../../src/domain/metrics/metric-writer.js";
import { createDatabase, type Database } from "../../src/platform/db/database.js";
import { rowsOf } from "../../src/platform/db/rows-of.js";
import { createHttpServer } from "../../src/transports/http/http-server.js";
import { silentLogger } from "../support/agent-channel.js";
import { type ServerProcess, startServerProcess } from "../support/server-process.js";
import { createPostgresDatabase, dropPostgresDatabase } from "../support/test-databases.js";

const TOKEN = "scrape-token-0123456789abcdef";

function sample(sequence: number, cpu: number): MetricSampleInput {
  return {
    sequence,
    collectedAt: new Date(Date.now() - 1000),
    cpu: { usagePercent: cpu, perCorePercent: [cpu], load1: 0.5, load5: 0.4, load15: 0.3, cores: 1 },
    memory: {
      totalBytes: 4096,
      usedBytes: 1024,
      availableBytes: 3072,
      activeBytes: 900,
      swapTotalBytes: 0,
      swapUsedBytes: 0,
    },
    filesystems: [
      { mount: "/", device: "/dev/vda1", fsType: "ext4", totalBytes: 100, usedBytes: 40, availableBytes: 60 },
    ],
    blockDevices: [],
    networkInterfaces: [],
    tcpConnections: 1,
    docker: undefined,
  };
}

/** Runs `promtool check metrics` on an exposition text; resolves with its exit code and output. */
function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile("promtool", ["check", "metrics"], (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") return reject(error);
      resolve({ code: typeof error?.code === "number" ? error.code : 0, output: stdout + stderr });
    });
    child.stdin?.end(text);
  });
}

const scrape = (server: ServerProcess, authorization?: string) =>
  fetch(`${server.url}/metrics`, { headers: authorization ? { authorization } : {} });

describe("GET /metrics (Prometheus export) on a real server and PostgreSQL", () => {
  let databaseUrl: string;
  let server: ServerProcess;
  let database: Database;

  beforeAll(async () => {
    databaseUrl = await createPostgresDatabase();
    server = await startServerProcess({
      DATABASE_URL: databaseUrl,
      OCORE_METRICS_TOKEN: TOKEN,
      OCORE_METRICS_HOST_SERIES_MAX: "2",
    });
    database = createDatabase({ kind: "postgres", url: databaseUrl, poolSize: 2 });
    // No agent is connected here: the presence sweep shows an `active` server offline once it has
    // been silent for a while, so "active" ones are seen (last_seen_at) far enough ahead.
    const ids = rowsOf<{ id: string; name: string }>(
      await database.db.execute(sql`
        insert into servers (name, host, status, last_seen_at) values
          ('alpha', '10.0.0.1', 'active', now() + interval '1 day'), ('bravo', '10.0.0.2', 'offline', null),
          ('charlie', '10.0.0.3', 'active', now() + interval '1 day')
        returning id, name`),
    );
    const writer = createMetricWriter(database.db, { logger: silentLogger });
    for (const [index, row] of ids.entries()) await writer.write(row.id, [sample(1, 10 + index)]);
    await writer.close();
    const alpha = ids.find((row) => row.name === "alpha")?.id as string;
    await database.db.execute(sql`
      insert into commands (server_id, spec_type, spec, deadline, actor_kind, created_at)
      values (${alpha}::uuid, 'test.Spec', '\\x00'::bytea, now() + interval '1 hour', 'system', now() - interval '30 seconds')`);
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
    await database?.close();
    if (databaseUrl) await dropPostgresDatabase(databaseUrl);
  });

  it("refuses a scraper without the token, or with a wrong one: 401, audited, token never logged", async () => {
    const missing = await scrape(server);
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe("Bearer");
    expect(await missing.text()).not.toContain("ocore_");
    expect((await scrape(server, "Bearer not-the-token-at-all")).status).toBe(401);
    expect((await scrape(server, `Basic ${TOKEN}`)).status).toBe(401);

    let denials: Array<{ actor_name: string; detail: string; result: string }> = [];
    for (let i = 0; i < 50 && denials.length === 0; i++) {
      denials = rowsOf(
        await database.db.execute(
          sql`select actor_name, detail, result from audit_log where action = 'metrics.scrape' order by at`,
        ),
      );
      if (denials.length === 0) await new Promise((done) => setTimeout(done, 100));
    }
    expect(denials[0]).toMatchObject({
      actor_name: "metrics scraper",
      detail: "/metrics refused: no bearer token",
    });
    expect(server.stdout() + server.stderr()).not.toContain(TOKEN);
  });

  it("answers the server's internals and the fleet, bounded per server, and promtool accepts it", async () => {
    const response = await scrape(server, `Bearer ${TOKEN}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const text = await response.text();

    expect(text).toMatch(/^ocore_agents_connected 0$/m);
    expect(text).toMatch(/^ocore_ingest_samples_total 0$/m); // written by the test, not through this process
    expect(text).toMatch(/^ocore_fleet_servers\{status="active"\} 2$/m);
    expect(text).toMatch(/^ocore_fleet_servers\{status="offline"\} 1$/m);
    expect(text).toMatch(/^ocore_fleet_hosts_omitted 1$/m);
    expect(text).toMatch(/^ocore_commands\{state="queued"\} 1$/m);
    expect(text).toMatch(/^ocore_command_queue_oldest_seconds (2\d|3\d)(\.\d+)?$/m);
    expect(text).toMatch(/^ocore_db_pool_max_connections 10$/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \S+$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^ocore_command_duration_recent_p99_seconds 0$/m);
    // Per-server series for the first two servers by name only.
    const cpuSeries = text.split("\n").filter((line) => line.startsWith("ocore_host_cpu_percent{"));
    expect(cpuSeries).toHaveLength(2);
    expect(text).toMatch(/^ocore_host_cpu_percent\{server_id="[0-9a-f-]{36}",server="alpha"\} 10$/m);
    expect(text).toMatch(/^ocore_host_up\{server_id="[0-9a-f-]{36}",server="bravo",status="offline"\} 0$/m);
    expect(text).not.toContain('server="charlie"');

    const check = await promtoolCheck(text);
    expect(check.output).toBe("");
    expect(check.code).toBe(0);
  });

  it("promtool itself fails a broken exposition (the check can fail)", async () => {
    const check = await promtoolCheck("# TYPE ocore_bad counter\nocore_bad{ 1\n");
    expect(check.code).not.toBe(0);
  });
});

describe("GET /metrics without OCORE_METRICS_TOKEN", () => {
  it("is off: 404, whatever the caller sends (the HTTP server without a metrics handler)", async () => {
    const http = createHttpServer({
      logger: silentLogger,
      routes: () => {},
      readMaxBytes: 65_536,
      readiness: async () => {},
    });
    const address = await http.listen("127.0.0.1", 0);
    try {
      const response = await fetch(`http://127.0.0.1:${address.port}/metrics`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(response.status).toBe(404);
      expect(await response.text()).toContain("OCORE_METRICS_TOKEN");
    } finally {
      await http.close();
    }
  });
});
