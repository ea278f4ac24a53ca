// Fleet benchmark: N simulated agents (own TLS connection and real certificate each, in several
// load-generator processes) against the BUILT server on a throwaway PostgreSQL, all on loopback.
// Run with `npm run bench:fleet -- [N ...]` (default 1000). Env: BENCH_WORKERS (4),
// BENCH_STEADY_SECONDS (60). Results: bench/results/agent-fleet-<N>.json.
import { type ChildProcess, fork, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "@ocore/server/testing/free-port";
import { startCluster } from "@ocore/server/testing/postgres-cluster";
import postgres from "postgres";
import { readCounts } from "../cli-args.ts";
import type { WorkerPlan, WorkerResult } from "./agents-worker.ts";
import { createIdentities } from "./identities.ts";
import { measureIngestVsCopy } from "./ingest-vs-copy.ts";
import { cpuSeconds, findPostmaster, postgresCpuSeconds, rssBytes } from "./proc-stats.ts";

const sizes = readCounts(
  "usage: npm run bench:fleet -- [agents ...]   (default 1000; env BENCH_WORKERS, BENCH_STEADY_SECONDS)",
  [1000],
);
const root = new URL("../..", import.meta.url).pathname;
/**
 * The Node/V8 flags the server runs with in production (read from bin/ocore-server, which
 * `npm start` runs too, so the benchmark measures the server as it runs in production).
 */
const SERVER_NODE_FLAGS = (() => {
  const entry = readFileSync(path.join(root, "bin/ocore-server"), "utf8");
  const flags = /^exec "\$node" ((?:--\S+ )*)"\$main"/m.exec(entry);
  if (!flags) throw new Error('cannot find `exec "$node" … "$main"` in bin/ocore-server');
  return (flags[1] ?? "").split(" ").filter(Boolean);
})();
const WORKERS = Number(process.env.BENCH_WORKERS ?? 4);
const STEADY_S = Number(process.env.BENCH_STEADY_SECONDS ?? 60);
const INTERVAL_S = 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

function startServer(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, path.join(root, "server/dist/main.js")], {
    env: { PATH: process.env.PATH, NODE_ENV: "production", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  return new Promise((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-20_000);
      if (stderr.includes("is running: open")) resolve(child);
    });
    child.once("exit", (code, signal) => {
      const error = new Error(`server exited with ${code ?? signal}: ${stderr.slice(-4000)}`);
      console.error(error.message);
      reject(error);
    });
  });
}

function stop(child: ChildProcess | undefined, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.removeAllListeners("exit");
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill(signal);
  });
}

const nextMessage = <T>(child: ChildProcess, type: string, timeoutMs: number) =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`worker gave no "${type}" in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return;
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve(message as T);
    };
    child.on("message", onMessage);
  });

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

async function runFleet(n: number) {
  const cluster = await startCluster();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "ocore-bench-fleet-"));
  let server: ChildProcess | undefined;
  const workers: ChildProcess[] = [];
  try {
    const masterKey = randomBytes(32).toString("base64");
    const agentPort = await freePort();
    server = await startServer({
      DATABASE_URL: cluster.url,
      OCORE_CONSOLE: "off",
      OCORE_DATA_DIR: dataDir,
      OCORE_HTTP_ADDR: "127.0.0.1:0",
      OCORE_AGENT_ADDR: `127.0.0.1:${agentPort}`,
      OCORE_SSH_LISTEN_ADDR: "127.0.0.1:0",
      OCORE_AGENT_HOSTNAMES: "127.0.0.1,localhost",
      OCORE_MASTER_KEY: masterKey,
      OCORE_METRICS_INTERVAL_SECONDS: String(INTERVAL_S),
      OCORE_LOG_LEVEL: "warn",
    });
    const serverPid = server.pid as number;
    const postmaster = findPostmaster(Number(new URL(cluster.url).port));
    if (!postmaster) throw new Error("cannot find the postmaster's process");

    let started = performance.now();
    const { caPem, agents } = await createIdentities(cluster.url, masterKey, n);
    const identitiesSeconds = (performance.now() - started) / 1000;
    log(`${n} servers with certificates issued in ${identitiesSeconds.toFixed(1)} s`);

    for (let w = 0; w < WORKERS; w++) {
      workers.push(fork(path.join(root, "bench/agent-fleet/agents-worker.ts"), [], { stdio: "inherit" }));
    }
    await sleep(1_000);
    const rssBefore = rssBytes(serverPid);
    started = performance.now();
    const connected = await Promise.all(
      workers.map((worker, w) => {
        const plan: WorkerPlan = {
          address: `127.0.0.1:${agentPort}`,
          caPem,
          agents: agents.filter((_, i) => i % WORKERS === w),
          intervalMs: INTERVAL_S * 1000,
          connectConcurrency: 50,
        };
        const reply = nextMessage<{ connected: number; failed: number; errors: string[] }>(
          worker,
          "connected",
          600_000,
        );
        worker.send({ type: "connect", plan });
        return reply;
      }),
    );
    const connectSeconds = (performance.now() - started) / 1000;
    const connectedCount = connected.reduce((sum, c) => sum + c.connected, 0);
    const failed = connected.reduce((sum, c) => sum + c.failed, 0);
    log(
      `${connectedCount} connected, ${failed} failed in ${connectSeconds.toFixed(1)} s ${connected
        .flatMap((c) => c.errors)
        .slice(0, 3)
        .join("; ")}`,
    );
    await sleep(3_000);
    const rssAfter = rssBytes(serverPid);

    for (const worker of workers) worker.send({ type: "start" });
    await sleep(INTERVAL_S * 1000); // ramp: every agent has sent once
    const loadCpu = () => workers.reduce((sum, worker) => sum + cpuSeconds(worker.pid as number), 0);
    const cpu0 = {
      server: cpuSeconds(serverPid),
      postgres: postgresCpuSeconds(postmaster),
      load: loadCpu(),
      at: performance.now(),
    };
    // RSS once a second: the end of the phase and the highest value are both reported (V8 lets
    // garbage build up in the old generation until its next major GC, a saw-tooth).
    let rssSteadyMax = 0;
    while (performance.now() - cpu0.at < STEADY_S * 1000) {
      await sleep(1_000);
      rssSteadyMax = Math.max(rssSteadyMax, rssBytes(serverPid));
    }
    const wall = (performance.now() - cpu0.at) / 1000;
    const serverCpu = (cpuSeconds(serverPid) - cpu0.server) / wall;
    const postgresCpu = (postgresCpuSeconds(postmaster) - cpu0.postgres) / wall;
    const loadGeneratorCpu = (loadCpu() - cpu0.load) / wall;
    const rssSteady = rssBytes(serverPid);
    const results = await Promise.all(
      workers.map((worker) => {
        const reply = nextMessage<{ result: WorkerResult }>(worker, "result", 60_000);
        worker.send({ type: "stop" });
        return reply.then((r) => r.result);
      }),
    );
    await stop(server);
    server = undefined;

    const sent: Record<string, number> = Object.assign({}, ...results.map((r) => r.sent));
    const sentTotal = Object.values(sent).reduce((sum, s) => sum + s, 0);
    const sql = postgres(cluster.url, { max: 1, onnotice: () => {} });
    const stored =
      await sql`select server_id, count(*)::int as rows, count(distinct sequence)::int as distinct_rows,
      max(sequence)::int as max_sequence from metric_samples group by server_id`;
    await sql.end();
    let lost = 0;
    let duplicated = 0;
    let storedTotal = 0;
    const byServer = new Map(stored.map((row) => [row.server_id as string, row]));
    for (const [serverId, last] of Object.entries(sent)) {
      const row = byServer.get(serverId);
      lost += Math.max(0, last - ((row?.distinct_rows as number | undefined) ?? 0));
      duplicated +=
        ((row?.rows as number | undefined) ?? 0) - ((row?.distinct_rows as number | undefined) ?? 0);
      storedTotal += (row?.rows as number | undefined) ?? 0;
    }
    const lags = results.flatMap((r) => r.lagsMs).sort((a, b) => a - b);
    log("measuring the ingest path against COPY");
    const ingest = await measureIngestVsCopy(cluster.url, 1000, 20);

    return {
      agents: n,
      workers: WORKERS,
      identitiesSeconds: Math.round(identitiesSeconds * 10) / 10,
      connected: connectedCount,
      connectFailures: failed,
      connectSeconds: Math.round(connectSeconds * 10) / 10,
      serverRssBeforeMb: Math.round(rssBefore / 2 ** 20),
      serverRssConnectedMb: Math.round(rssAfter / 2 ** 20),
      serverRssSteadyMb: Math.round(rssSteady / 2 ** 20),
      serverRssSteadyMaxMb: Math.round(rssSteadyMax / 2 ** 20),
      serverKbPerAgent: Math.round((rssAfter - rssBefore) / 1024 / Math.max(1, connectedCount)),
      serverKbPerAgentSteady: Math.round((rssSteady - rssBefore) / 1024 / Math.max(1, connectedCount)),
      serverKbPerAgentSteadyMax: Math.round((rssSteadyMax - rssBefore) / 1024 / Math.max(1, connectedCount)),
      steadySeconds: Math.round(wall),
      serverCpuCores: Math.round(serverCpu * 1000) / 1000,
      postgresCpuCores: Math.round(postgresCpu * 1000) / 1000,
      loadGeneratorCpuCores: Math.round(loadGeneratorCpu * 1000) / 1000,
      loadGeneratorLoopDelayP99Ms: Math.max(...results.map((r) => r.loopDelayP99Ms)),
      samplesSent: sentTotal,
      samplesAcked: results.reduce((sum, r) => sum + r.acked, 0),
      rowsStored: storedTotal,
      lost,
      duplicated,
      duplicateAcks: results.reduce((sum, r) => sum + r.duplicateAcks, 0),
      lagP50Ms: percentile(lags, 0.5),
      lagP99Ms: percentile(lags, 0.99),
      lagMaxMs: lags.at(-1) ?? 0,
      ingest,
    };
  } finally {
    for (const worker of workers) {
      if (worker.connected) worker.send({ type: "exit" });
    }
    await Promise.all(workers.map((worker) => stop(worker, "SIGKILL")));
    await stop(server);
    await cluster.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

mkdirSync(path.join(root, "bench/results"), { recursive: true });
for (const n of sizes) {
  log(
    `fleet of ${n} agents, ${WORKERS} load processes, ${STEADY_S} s steady phase, server flags: ${SERVER_NODE_FLAGS.join(" ") || "none"}`,
  );
  const result = await runFleet(n);
  console.log(JSON.stringify(result, null, 2));
  writeFileSync(
    path.join(root, `bench/results/agent-fleet-${n}.json`),
    `${JSON.stringify({ at: new Date().toISOString(), cpus: os.cpus().length, node: process.version, serverNodeFlags: SERVER_NODE_FLAGS, ...result }, null, 2)}\n`,
  );
}
