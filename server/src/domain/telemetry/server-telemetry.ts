import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Db } from "../../platform/db/database.js";
import type { MetricWriter } from "../metrics/metric-writer.js";
import { readExposition } from "./read-exposition.js";

export interface ServerTelemetryOptions {
  readonly db: Db;
  /** Per-server host series only for this many servers (by name); the rest are counted, not labelled. */
  readonly maxHostSeries: number;
  /** The PostgreSQL pool's size (undefined on PGlite: one embedded connection). */
  readonly dbPoolMax: number | undefined;
  readonly now: () => Date;
}

export interface ServerTelemetry {
  /** Counts the samples and commit time of every write (the ingest rate and queue). */
  instrumentWriter(writer: MetricWriter): MetricWriter;
  /** Where the number of agent streams held by this process is read from. */
  setAgentsConnected(read: () => number): void;
  /** The exposition text, fleet gauges read fresh from the database. */
  render(): Promise<string>;
  readonly contentType: string;
}

/**
 * The control server's own numbers and the fleet's newest host metrics, in Prometheus
 * exposition (prom-client). Label cardinality is bounded: statuses and command states are fixed
 * lists, and per-server series (labels server_id and server) exist for at most `maxHostSeries`
 * servers; `ocore_fleet_hosts_omitted` says how many were left out.
 */
export function createServerTelemetry(options: ServerTelemetryOptions): ServerTelemetry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  // Gauges named like counters (promtool rejects them); nodejs_active_{handles,requests,resources} stay.
  for (const name of [
    "nodejs_active_handles_total",
    "nodejs_active_requests_total",
    "nodejs_active_resources_total",
  ]) {
    registry.removeSingleMetric(name);
  }
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });

  let agentsConnected: () => number = () => 0;
  new Gauge({
    name: "ocore_agents_connected",
    help: "Agent streams held by this server process.",
    registers: [registry],
    collect() {
      this.set(agentsConnected());
    },
  });
  const ingestSamples = new Counter({
    name: "ocore_ingest_samples_total",
    help: "Metric samples received from agents and written (replays included).",
    registers: [registry],
  });
  const ingestFailures = new Counter({
    name: "ocore_ingest_write_failures_total",
    help: "Sample batches whose write failed (the agent keeps and resends them).",
    registers: [registry],
  });
  const ingestInFlight = gauge("ocore_ingest_batches_pending", "Sample batches waiting for their commit.");
  const ingestSeconds = new Histogram({
    name: "ocore_ingest_write_seconds",
    help: "Time from a batch reaching the writer to its commit.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const poolMax = gauge(
    "ocore_db_pool_max_connections",
    "PostgreSQL connections this process may open (1 on PGlite).",
  );
  poolMax.set(options.dbPoolMax ?? 1);
  const scrapeSeconds = gauge(
    "ocore_metrics_scrape_query_seconds",
    "Time the fleet queries of the last scrape took.",
  );

  const servers = gauge("ocore_fleet_servers", "Servers per lifecycle status.", ["status"]);
  const omitted = gauge(
    "ocore_fleet_hosts_omitted",
    "Servers without per-server series (over the series limit).",
  );
  const seriesLimit = gauge(
    "ocore_fleet_host_series_limit",
    "Servers that get per-server series (OCORE_METRICS_HOST_SERIES_MAX).",
  );
  seriesLimit.set(options.maxHostSeries);
  const hostLabels = ["server_id", "server"];
  const host = {
    up: gauge("ocore_host_up", "1 when the server is active (its agent connected), else 0.", [
      ...hostLabels,
      "status",
    ]),
    cpu: gauge("ocore_host_cpu_percent", "CPU use of the newest sample, percent.", hostLabels),
    memUsed: gauge("ocore_host_memory_used_bytes", "Memory used, newest sample.", hostLabels),
    memTotal: gauge("ocore_host_memory_total_bytes", "Memory installed, newest sample.", hostLabels),
    disk: gauge("ocore_host_disk_used_percent", "Fullest mount's use, newest sample, percent.", hostLabels),
    load1: gauge("ocore_host_load1", "1-minute load average, newest sample.", hostLabels),
    containers: gauge("ocore_host_containers_running", "Running containers, newest sample.", hostLabels),
  };
  const commands = gauge("ocore_commands", "Commands not finished yet, per state.", ["state"]);
  const oldestQueued = gauge("ocore_command_queue_oldest_seconds", "Age of the oldest queued command.");
  const latencyP50 = gauge(
    "ocore_command_duration_recent_p50_seconds",
    "Median created-to-finished time of the commands finished in the last 5 minutes.",
  );
  const latencyP99 = gauge(
    "ocore_command_duration_recent_p99_seconds",
    "99th percentile created-to-finished time of the commands finished in the last 5 minutes.",
  );
  const latencyCount = gauge("ocore_command_finished_recent", "Commands finished in the last 5 minutes.");

  const set = (metric: Gauge, labels: Record<string, string>, value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value)) metric.set(labels, value);
  };

  async function refresh(): Promise<void> {
    const started = performance.now();
    const snapshot = await readExposition(options.db, {
      maxHosts: options.maxHostSeries,
      now: options.now(),
    });
    scrapeSeconds.set((performance.now() - started) / 1000);
    servers.reset();
    for (const [status, count] of snapshot.serversByStatus) servers.set({ status }, count);
    omitted.set(snapshot.hostsOmitted);
    for (const metric of Object.values(host)) metric.reset();
    for (const h of snapshot.hosts) {
      const labels = { server_id: h.serverId, server: h.name };
      host.up.set({ ...labels, status: h.status }, h.status === "active" ? 1 : 0);
      set(host.cpu, labels, h.cpuPercent);
      set(host.memUsed, labels, h.memoryUsedBytes);
      set(host.memTotal, labels, h.memoryTotalBytes);
      set(host.disk, labels, h.diskUsedPercent);
      set(host.load1, labels, h.load1);
      set(host.containers, labels, h.containersRunning);
    }
    for (const [state, count] of snapshot.commandsByState) commands.set({ state }, count);
    oldestQueued.set(snapshot.oldestQueuedSeconds);
    latencyP50.set(snapshot.recentCommandSeconds.p50);
    latencyP99.set(snapshot.recentCommandSeconds.p99);
    latencyCount.set(snapshot.recentCommandSeconds.count);
  }

  return {
    contentType: registry.contentType,
    setAgentsConnected(read) {
      agentsConnected = read;
    },
    instrumentWriter(writer) {
      return {
        rowsPerStatement: writer.rowsPerStatement,
        close: () => writer.close(),
        async write(serverId, samples) {
          ingestInFlight.inc();
          const stop = ingestSeconds.startTimer();
          try {
            await writer.write(serverId, samples);
            ingestSamples.inc(samples.length);
          } catch (error) {
            ingestFailures.inc();
            throw error;
          } finally {
            stop();
            ingestInFlight.dec();
          }
        },
      };
    },
    async render() {
      await refresh();
      return registry.metrics();
    },
  };
}
