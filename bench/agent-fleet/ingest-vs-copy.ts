// The metric writer's rows per second as a ratio to a raw COPY of the same rows into a table with
// the same columns and indexes, in the same database. Standalone: `node bench/agent-fleet/ingest-vs-copy.ts [rows]`
// (starts a throwaway PostgreSQL); the fleet benchmark calls measureIngestVsCopy with its own.
import { randomUUID } from "node:crypto";
import path from "node:path";
import { createDatabase, createMetricWriter, toSampleRow } from "@ocore/server/testing";
import pino from "pino";
import postgres from "postgres";
import { readCounts } from "../cli-args.ts";
import { benchSample } from "./samples.ts";

export interface IngestVsCopy {
  rows: number;
  writerRowsPerSecond: number;
  /** COPY timed from the same samples: row building and text encoding included. */
  copyRowsPerSecond: number;
  ratio: number;
  /** COPY timed from already-encoded text: the database's part only. */
  copyStreamRowsPerSecond: number;
  ratioToCopyStream: number;
}

const COLUMNS = [
  "server_id",
  "sequence",
  "collected_at",
  "received_at",
  "cpu_percent",
  "load1",
  "load5",
  "load15",
  "cpu_cores",
  "memory_total",
  "memory_used",
  "memory_available",
  "memory_active",
  "swap_total",
  "swap_used",
  "disk_used_percent",
  "disk_read_bps",
  "disk_write_bps",
  "net_rx_bps",
  "net_tx_bps",
  "tcp_connections",
  "containers_running",
  "containers_paused",
  "containers_stopped",
  "containers_restarting",
  "detail",
];

const copyText = (value: unknown): string => {
  if (value === null || value === undefined) return "\\N";
  const text =
    value instanceof Date
      ? value.toISOString()
      : typeof value === "object"
        ? JSON.stringify(value)
        : String(value);
  return text.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n");
};

/**
 * Writes `servers × perServer` samples through the metric writer (one batch per agent per round,
 * all agents at once, as the gateway does), then COPYs the same rows into a twin table.
 * The database at `url` must be migrated.
 */
export async function measureIngestVsCopy(
  url: string,
  servers = 1000,
  perServer = 20,
  makeWriter: typeof createMetricWriter = createMetricWriter,
): Promise<IngestVsCopy> {
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  const database = createDatabase({ kind: "postgres", url });
  try {
    const ids = Array.from({ length: servers }, () => randomUUID());
    await sql`insert into servers ${sql(ids.map((id) => ({ id, name: `ingest-bench-${id}` })))}`;
    const base = Date.now() - perServer * 10_000;
    const rounds = Array.from({ length: perServer }, (_, round) =>
      ids.map((id) => ({ id, sample: benchSample(round + 1, new Date(base + round * 10_000)) })),
    );
    const rows = servers * perServer;

    const writer = makeWriter(database.db, { logger: pino({ level: "silent" }) });
    let started = performance.now();
    // Rounds overlap like a fleet: agents do not wait for each other.
    await Promise.all(
      rounds.map((round) => Promise.all(round.map(({ id, sample }) => writer.write(id, [sample])))),
    );
    const writerSeconds = (performance.now() - started) / 1000;
    await writer.close();

    // A regular (logged) table like the real one, so that COPY pays the same WAL and index costs.
    const twin = `copy_twin_${process.pid}`;
    await sql.unsafe(`create table ${twin} (like metric_samples including all)`);
    // Timed from the same input as the writer (samples) to committed rows: the client's part of a
    // COPY (row and text encoding) counts, as the writer's does.
    started = performance.now();
    const receivedAt = new Date();
    const lines = rounds.flat().map(({ id, sample }) => {
      const row = toSampleRow(id, sample, receivedAt) as Record<string, unknown>;
      return `${Object.values(row).map(copyText).join("\t")}\n`;
    });
    const streamStarted = performance.now();
    const stream = await sql.unsafe(`copy ${twin} (${COLUMNS.join(", ")}) from stdin`).writable();
    for (let i = 0; i < lines.length; i += 1000) {
      if (!stream.write(lines.slice(i, i + 1000).join("")))
        await new Promise((resolve) => stream.once("drain", resolve));
    }
    await new Promise<void>((resolve, reject) =>
      stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    const copySeconds = (performance.now() - started) / 1000;
    const copyStreamSeconds = (performance.now() - streamStarted) / 1000;

    const [{ count }] =
      await sql`select count(*)::int as count from metric_samples where server_id = any(${ids}::uuid[])`;
    if (count !== rows) throw new Error(`the writer stored ${count} of ${rows} rows`);
    await sql`delete from servers where id = any(${ids}::uuid[])`;
    await sql.unsafe(`drop table ${twin}`);
    return {
      rows,
      writerRowsPerSecond: Math.round(rows / writerSeconds),
      copyRowsPerSecond: Math.round(rows / copySeconds),
      ratio: Math.round((copySeconds / writerSeconds) * 1000) / 1000,
      copyStreamRowsPerSecond: Math.round(rows / copyStreamSeconds),
      ratioToCopyStream: Math.round((copyStreamSeconds / writerSeconds) * 1000) / 1000,
    };
  } finally {
    await database.close();
    await sql.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [servers = 1000] = readCounts(
    "usage: node bench/agent-fleet/ingest-vs-copy.ts [servers]   (default 1000; BENCH_WRITER_MODULE=file compares another writer)",
    [1000],
  );
  const { startCluster } = await import("@ocore/server/testing/postgres-cluster");
  const cluster = await startCluster();
  try {
    const database = createDatabase({ kind: "postgres", url: cluster.url });
    await database.migrate();
    await database.close();
    // BENCH_WRITER_MODULE=path/to/another-writer.ts compares another implementation.
    const other = process.env.BENCH_WRITER_MODULE;
    const makeWriter = other ? (await import(path.resolve(other))).createMetricWriter : createMetricWriter;
    for (let run = 0; run < 2; run++)
      console.log(await measureIngestVsCopy(cluster.url, servers, 20, makeWriter));
  } finally {
    await cluster.stop();
  }
}
