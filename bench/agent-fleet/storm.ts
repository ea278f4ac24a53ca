// Reconnect-storm benchmark: N simulated agents (own mTLS connection and real certificate each,
// in load processes that back off like the real agent) connected to the BUILT server on a
// throwaway PostgreSQL; the server is killed with SIGKILL and started again; measured: the time
// until every agent is back (from the kill and from the restarted server's readiness), the
// server's RSS and CPU during the storm, and ListServers latency (p50/p99/max) called every
// 200 ms throughout. Run with `npm run bench:storm -- [N ...]` (default 2000). Env: BENCH_WORKERS
// (2), BENCH_BACKOFF_CAP_SECONDS (60, the agent's default), BENCH_CPU_PROFILE=1 (a .cpuprofile
// of the restarted server and its top functions by self time). Results: bench/results/storm-<N>.json.
import { type ChildProcess, fork, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { freePort } from "@ocore/server/testing/free-port";
import { startCluster } from "@ocore/server/testing/postgres-cluster";
import { readCounts } from "../cli-args.ts";
import { firstAdminPassword } from "../first-admin-password.ts";
import { createIdentities } from "./identities.ts";
import { cpuSeconds, rssBytes } from "./proc-stats.ts";
import type { StormWorkerPlan } from "./storm-worker.ts";

const sizes = readCounts("usage: npm run bench:storm -- [agents ...]   (default 2000)", [2000]);
const root = new URL("../..", import.meta.url).pathname;
const resultsDir = path.join(root, "bench/results");
const SERVER_NODE_FLAGS = (() => {
  const entry = readFileSync(path.join(root, "bin/ocore-server"), "utf8");
  const flags = /^exec "\$node" ((?:--\S+ )*)"\$main"/m.exec(entry);
  if (!flags) throw new Error('cannot find `exec "$node" … "$main"` in bin/ocore-server');
  return (flags[1] ?? "").split(" ").filter(Boolean);
})();
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const CAP_MS = Number(process.env.BENCH_BACKOFF_CAP_SECONDS ?? 60) * 1000;
const PROFILE = process.env.BENCH_CPU_PROFILE === "1";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const round1 = (value: number) => Math.round(value * 10) / 10;

function startServer(env: Record<string, string>, extraFlags: string[] = []) {
  const child = spawn(
    process.execPath,
    [...SERVER_NODE_FLAGS, ...extraFlags, path.join(root, "server/dist/main.js")],
    { env: { PATH: process.env.PATH, NODE_ENV: "production", ...env }, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  return new Promise<{ child: ChildProcess; url: string }>((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-20_000);
      const url = /is running: open (\S+)/.exec(stderr)?.[1];
      if (url) resolve({ child, url });
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`server exited with ${code ?? signal}: ${stderr.slice(-3000)}`)),
    );
  });
}

function ask<T>(child: ChildProcess, message: object, type: string, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`worker gave no "${type}" in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (reply: { type: string }) => {
      if (reply.type !== type) return;
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve(reply as T);
    };
    child.on("message", onMessage);
    child.send(message);
  });
}

/** The functions with the most self time in a .cpuprofile (V8's sampled profile format). */
function topFunctions(file: string, count: number) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as {
    nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame;
    const delta = profile.timeDeltas[i] ?? 0;
    total += delta;
    if (!frame) return;
    const url = frame.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/server\/dist\//, "server/");
    const key = `${frame.functionName || "(anonymous)"} ${url}:${frame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + delta);
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, micros]) => ({
      name,
      ms: Math.round(micros / 1000),
      share: round1((micros / total) * 100),
    }));
}

async function runStorm(n: number) {
  const cluster = await startCluster();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "ocore-bench-storm-"));
  const profileDir = mkdtempSync(path.join(os.tmpdir(), "ocore-bench-storm-prof-"));
  const workers: ChildProcess[] = [];
  let server: ChildProcess | undefined;
  try {
    const masterKey = randomBytes(32).toString("base64");
    const agentPort = await freePort();
    const env = {
      DATABASE_URL: cluster.url,
      OCORE_CONSOLE: "off",
      OCORE_DATA_DIR: dataDir,
      OCORE_HTTP_ADDR: "127.0.0.1:0",
      OCORE_AGENT_ADDR: `127.0.0.1:${agentPort}`,
      OCORE_SSH_LISTEN_ADDR: "127.0.0.1:0",
      OCORE_AGENT_HOSTNAMES: "127.0.0.1,localhost",
      OCORE_MASTER_KEY: masterKey,
      OCORE_LOG_LEVEL: "warn",
    };
    let started = await startServer(env);
    server = started.child;
    const oneTime = firstAdminPassword(dataDir);
    const auth = createClient(
      AuthService,
      createConnectTransport({ baseUrl: started.url, httpVersion: "1.1" }),
    );
    const first = await auth.login({ username: "admin", password: oneTime });
    const changed = await auth.changePassword(
      { currentPassword: oneTime, newPassword: `storm ${randomBytes(8).toString("hex")} passphrase` },
      { headers: { authorization: `Bearer ${first.tokens?.accessToken}` } },
    );
    const headers = { authorization: `Bearer ${changed.tokens?.accessToken}` };
    const { caPem, agents } = await createIdentities(cluster.url, masterKey, n);
    log(`${n} servers with certificates issued`);

    for (let w = 0; w < WORKERS; w++) {
      workers.push(fork(path.join(root, "bench/agent-fleet/storm-worker.ts"), [], { stdio: "inherit" }));
    }
    const t = performance.now();
    await Promise.all(
      workers.map((worker, w) => {
        const plan: StormWorkerPlan = {
          address: `127.0.0.1:${agentPort}`,
          caPem,
          agents: agents.filter((_, i) => i % WORKERS === w),
          connectConcurrency: 50,
          backoffCapMs: CAP_MS,
        };
        return ask(worker, { type: "connect", plan }, "connected", 900_000);
      }),
    );
    const live = async () => {
      const counts = await Promise.all(
        workers.map((worker) =>
          ask<{ live: number; attempts: number }>(worker, { type: "count" }, "count", 30_000),
        ),
      );
      return {
        live: counts.reduce((s, c) => s + c.live, 0),
        attempts: counts.reduce((s, c) => s + c.attempts, 0),
      };
    };
    const firstConnectSeconds = (performance.now() - t) / 1000;
    log(`first connect: ${(await live()).live}/${n} live after ${round1(firstConnectSeconds)} s`);
    await sleep(5_000);

    // The storm: SIGKILL, restart on the same database, every agent redials with its backoff.
    const attemptsBefore = (await live()).attempts;
    server.kill("SIGKILL");
    const killedAt = performance.now();
    await new Promise((resolve) => server?.once("exit", resolve));
    started = await startServer(env, PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []);
    server = started.child;
    const readyAt = performance.now();
    const pid = server.pid as number;
    const cpu0 = cpuSeconds(pid);
    const servers = createClient(
      ServerService,
      createConnectTransport({ baseUrl: started.url, httpVersion: "1.1" }),
    );
    const latencies: number[] = [];
    let apiErrors = 0;
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const at = performance.now();
        try {
          await servers.listServers({ pageSize: 50 }, { headers, timeoutMs: 30_000 });
          latencies.push(performance.now() - at);
        } catch {
          apiErrors++;
        }
        await sleep(200);
      }
    })();
    let rssPeak = rssBytes(pid);
    let allBackAt: number | undefined;
    const curve: Array<{ s: number; live: number }> = [];
    while (performance.now() - killedAt < 600_000) {
      await sleep(1_000);
      rssPeak = Math.max(rssPeak, rssBytes(pid));
      const now = await live();
      curve.push({ s: Math.round((performance.now() - killedAt) / 1000), live: now.live });
      if (now.live >= n) {
        allBackAt = performance.now();
        break;
      }
    }
    const stormCpu = cpuSeconds(pid) - cpu0;
    await sleep(3_000);
    probing = false;
    await prober;
    const attempts = (await live()).attempts - attemptsBefore;
    const sorted = [...latencies].sort((a, b) => a - b);
    server.kill("SIGTERM");
    await new Promise((resolve) => server?.once("exit", resolve));
    server = undefined;
    const profileFile = readdirSync(profileDir).find((f) => f.endsWith(".cpuprofile"));
    let profile: ReturnType<typeof topFunctions> | undefined;
    if (profileFile) {
      const target = path.join(resultsDir, `storm-${n}.cpuprofile`);
      writeFileSync(target, readFileSync(path.join(profileDir, profileFile)));
      profile = topFunctions(target, 25);
    }
    return {
      agents: n,
      workers: WORKERS,
      backoffCapSeconds: CAP_MS / 1000,
      firstConnectSeconds: round1(firstConnectSeconds),
      allBackSecondsFromKill: allBackAt ? round1((allBackAt - killedAt) / 1000) : null,
      allBackSecondsFromReady: allBackAt ? round1((allBackAt - readyAt) / 1000) : null,
      restartSeconds: round1((readyAt - killedAt) / 1000),
      reconnectAttempts: attempts,
      serverCpuSecondsInStorm: round1(stormCpu),
      serverRssPeakMb: Math.round(rssPeak / 2 ** 20),
      listServers: {
        calls: latencies.length,
        errors: apiErrors,
        p50Ms: round1(percentile(sorted, 0.5)),
        p99Ms: round1(percentile(sorted, 0.99)),
        maxMs: round1(sorted.at(-1) ?? 0),
      },
      liveBySecond: curve,
      profileTop: profile,
    };
  } finally {
    for (const worker of workers) if (worker.connected) worker.send({ type: "exit" });
    server?.kill("SIGKILL");
    await cluster.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  }
}

mkdirSync(resultsDir, { recursive: true });
for (const n of sizes) {
  log(`reconnect storm of ${n} agents, ${WORKERS} load processes, backoff cap ${CAP_MS / 1000} s`);
  const result = await runStorm(n);
  console.log(JSON.stringify({ ...result, liveBySecond: undefined }, null, 2));
  writeFileSync(
    path.join(resultsDir, `storm-${n}.json`),
    `${JSON.stringify({ at: new Date().toISOString(), cpus: os.cpus().length, load: os.loadavg(), node: process.version, ...result }, null, 2)}\n`,
  );
}
