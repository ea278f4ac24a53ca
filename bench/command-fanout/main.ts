// Command fan-out benchmark: one command to N simulated agents (own mTLS connection and real
// certificate each, running the agent's real command executor, in separate load processes)
// through the real gateway and command runner on a throwaway PostgreSQL; time from submit until
// every result is archived, p50/p99. Then the same small command to 50 agents versus plain
// OpenSSH (`ssh host cmd` in parallel) to 50 loopback sshd, and 100 MB of output from one agent
// with the server side's RSS growth. The gateway and runner run in THIS process (there is no
// "run anything" RPC to drive a server process with); agents run in forked workers.
// Run with `npm run bench:commands -- [N ...]` (default 1000). Env: BENCH_WORKERS (2),
// BENCH_SSH_HOSTS (50), BENCH_SKIP_SSH=1, BENCH_CPU_PROFILE=1 (a .cpuprofile of this process
// during the fan-out, next to the results), BENCH_IDLE_SECONDS (10: the no-output memory window).
// Results: bench/results/command-fanout-<N>.json.
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import path from "node:path";
import { StringValueSchema, UInt64ValueSchema } from "@bufbuild/protobuf/wkt";
import {
  createAgentGateway,
  createCommandRunner,
  createDatabase,
  createMasterKeyring,
  createMetricWriter,
  ensureAgentPki,
  SessionRegistry,
} from "@ocore/server/testing";
import { startCluster } from "@ocore/server/testing/postgres-cluster";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import { pino } from "pino";
import postgres from "postgres";
import { createIdentities } from "../agent-fleet/identities.ts";
import { cpuSeconds, findPostmaster, postgresCpuSeconds, rssBytes } from "../agent-fleet/proc-stats.ts";
import { readCounts } from "../cli-args.ts";
import type { FanoutWorkerPlan } from "./agents-worker.ts";
import { startSshdFleet } from "./sshd-fleet.ts";

const sizes = readCounts(
  "usage: npm run bench:commands -- [agents ...]   (default 1000; env: see the comment atop bench/command-fanout/main.ts)",
  [1000],
);
const root = new URL("../..", import.meta.url).pathname;
const resultsDir = path.join(root, "bench/results");
// One load process per core: more only adds context switches on the cores the server shares.
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const SSH_HOSTS = Number(process.env.BENCH_SSH_HOSTS ?? 50);
const ROUNDS = Number(process.env.BENCH_SSH_ROUNDS ?? 3);
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
const actor = { kind: "system" as const, id: null };

/** Peak growth of this process's memory while `work` runs, sampled every 20 ms after a full GC. */
async function peakGrowth(work: () => Promise<unknown>) {
  globalThis.gc?.();
  await sleep(500);
  const rssBefore = rssBytes(process.pid);
  let rssPeak = rssBefore;
  const before = process.memoryUsage();
  const peak = { heapUsed: 0, external: 0, arrayBuffers: 0 };
  const sampler = setInterval(() => {
    if (process.env.BENCH_GC) globalThis.gc?.();
    rssPeak = Math.max(rssPeak, rssBytes(process.pid));
    const memory = process.memoryUsage();
    for (const key of ["heapUsed", "external", "arrayBuffers"] as const) {
      peak[key] = Math.max(peak[key], memory[key] - before[key]);
    }
  }, 20);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return {
    rssBeforeMb: Math.round(rssBefore / 1048576),
    rssGrowthMb: Math.round((rssPeak - rssBefore) / 1048576),
    peakGrowthMb: Object.fromEntries(
      Object.entries(peak).map(([key, value]) => [key, Math.round(value / 1048576)]),
    ),
  };
}

async function runBench(n: number) {
  const cluster = await startCluster();
  const migrations = createDatabase({ kind: "postgres", url: cluster.url, poolSize: 1 });
  // The server's own pool settings, plus a count of the statements sent (round trips).
  let statements = 0;
  const client = postgres(cluster.url, {
    max: 10,
    onnotice: () => {},
    debug: () => {
      statements += 1;
    },
  });
  const database = { db: drizzle(client) as never as ReturnType<typeof createDatabase>["db"] };
  const workers: ChildProcess[] = [];
  let stopping = false;
  const logger = pino({ level: process.env.BENCH_LOG_LEVEL ?? "error" });
  try {
    await migrations.migrate();
    await migrations.close();
    const masterKey = randomBytes(32).toString("base64");
    const pki = await ensureAgentPki(database.db, {
      keyring: createMasterKeyring(masterKey),
      hostnames: ["localhost", "127.0.0.1"],
      installationId: "bench",
      logger,
    });
    const endedAt = new Map<string, { at: number; state: string }>();
    let onEnd: ((commandId: string) => void) | undefined;
    const registry = new SessionRegistry();
    const runner = createCommandRunner({
      db: database.db,
      links: registry,
      logger,
      onEnded: (commandId: string, state: string) => {
        endedAt.set(commandId, { at: performance.now(), state });
        onEnd?.(commandId);
      },
    });
    const writer = createMetricWriter(database.db, { logger });
    const gateway = createAgentGateway({
      db: database.db,
      pki,
      writer,
      logger,
      version: "bench",
      metricsIntervalSeconds: 3600,
      certificateDays: 7,
      registry,
      commands: runner.sink,
      timing: { sweepEveryMs: 0 },
    });
    const port = await gateway.listen("127.0.0.1", 0);

    let started = performance.now();
    const { caPem, agents } = await createIdentities(cluster.url, masterKey, n);
    log(`${n} servers with certificates in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    for (let w = 0; w < WORKERS; w++) {
      const worker = fork(path.join(root, "bench/command-fanout/agents-worker.ts"), [], { stdio: "inherit" });
      worker.once("exit", (code, signal) => {
        if (!stopping)
          log(`load process ${w} exited early (${signal ?? `code ${code}`}): its agents are gone`);
      });
      workers.push(worker);
    }
    started = performance.now();
    const replies = await Promise.all(
      workers.map((worker, w) => {
        const plan: FanoutWorkerPlan = {
          address: `127.0.0.1:${port}`,
          caPem,
          agents: agents.filter((_, i) => i % WORKERS === w),
          connectConcurrency: 32,
        };
        return new Promise<{ connected: number; errors: string[] }>((resolve) => {
          worker.once("message", (message) => resolve(message as never));
          worker.send({ type: "connect", plan });
        });
      }),
    );
    while (registry.size < n && performance.now() - started < 300_000) await sleep(100);
    log(
      `${registry.size}/${n} agents live in ${((performance.now() - started) / 1000).toFixed(1)} s ${replies
        .flatMap((r) => r.errors)
        .slice(0, 2)
        .join("; ")}`,
    );

    /** One command to each of `serverIds`; ms from submit until each result was stored. */
    const fanOut = async (
      serverIds: string[],
      command: { input: typeof UInt64ValueSchema | typeof StringValueSchema; args: object },
    ) => {
      const postmaster = findPostmaster(Number(new URL(cluster.url).port));
      const cpuNow = () => ({
        server: cpuSeconds(process.pid),
        agents: workers.reduce((sum, worker) => sum + cpuSeconds(worker.pid ?? 0), 0),
        postgres: postmaster ? postgresCpuSeconds(postmaster) : 0,
      });
      const cpuBefore = cpuNow();
      const statementsBefore = statements;
      const t0 = performance.now();
      const ids = await runner.submitMany(
        serverIds.map((serverId) => ({
          serverId,
          input: command.input,
          args: command.args,
          deadline: new Date(Date.now() + 120_000),
          actor,
        })) as never,
      );
      const submittedMs = performance.now() - t0;
      // Woken by onEnded when the last one ends (no polling: the loop would cost the server CPU).
      const wanted = new Set<string>(ids);
      let open = ids.filter((id: string) => !endedAt.has(id)).length;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 120_000);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        if (open === 0) done();
        else
          onEnd = (id) => {
            if (!wanted.has(id)) return;
            if (--open === 0) done();
          };
      });
      onEnd = undefined;
      const times = ids
        .map((id: string) => (endedAt.get(id)?.at ?? Number.NaN) - t0)
        .sort((a: number, b: number) => a - b);
      const cpuAfter = cpuNow();
      const failed = ids.filter((id: string) => endedAt.get(id)?.state !== "succeeded").length;
      if (failed > 0) {
        const [example] = await database.db.execute(
          sql`select state, error_code, error_message from commands where id = ${ids.find((id: string) => endedAt.get(id)?.state !== "succeeded")}`,
        );
        log(`${failed} of ${ids.length} commands did not succeed, e.g. ${JSON.stringify(example)}`);
      }
      return {
        commands: ids.length,
        failed,
        submitMs: Math.round(submittedMs),
        allArchivedMs: Math.round(times.at(-1) ?? Number.NaN),
        p50Ms: Math.round(percentile(times, 0.5)),
        p99Ms: Math.round(percentile(times, 0.99)),
        statements: statements - statementsBefore,
        cpuSeconds: {
          server: Number((cpuAfter.server - cpuBefore.server).toFixed(2)),
          agents: Number((cpuAfter.agents - cpuBefore.agents).toFixed(2)),
          postgres: Number((cpuAfter.postgres - cpuBefore.postgres).toFixed(2)),
        },
      };
    };
    const all = agents.map((agent) => agent.serverId);
    const small = { input: UInt64ValueSchema, args: { value: 128n } };
    await fanOut(all.slice(0, Math.min(n, 200)), small); // warm-up
    const profiler = process.env.BENCH_CPU_PROFILE ? new Session() : undefined;
    /** Sends each worker a message and waits for its answer. */
    const askWorkers = (message: (w: number) => object) =>
      Promise.all(
        workers.map(
          (worker, w) =>
            new Promise((resolve) => {
              worker.once("message", resolve);
              worker.send(message(w));
            }),
        ),
      );
    if (profiler) {
      await askWorkers(() => ({ type: "profile-start" }));
      profiler.connect();
      await profiler.post("Profiler.enable");
      await profiler.post("Profiler.start");
    }
    const fanout = await fanOut(all, small);
    if (profiler) {
      const { profile } = await profiler.post("Profiler.stop");
      writeFileSync(path.join(resultsDir, `command-fanout-${n}.cpuprofile`), JSON.stringify(profile));
      profiler.disconnect();
      await askWorkers((w) => ({
        type: "profile-stop",
        file: path.join(resultsDir, `command-fanout-${n}-agents-${w}.cpuprofile`),
      }));
    }
    log(
      `fan-out to ${n}: all archived in ${fanout.allArchivedMs} ms (p50 ${fanout.p50Ms}, p99 ${fanout.p99Ms}, submit ${fanout.submitMs}, failed ${fanout.failed}); ${fanout.statements} SQL statements; CPU s ${JSON.stringify(fanout.cpuSeconds)}`,
    );

    let ssh: Record<string, unknown> | undefined;
    if (n >= SSH_HOSTS && process.env.BENCH_SKIP_SSH !== "1") {
      const sshd = await startSshdFleet(SSH_HOSTS);
      try {
        const program = "uname -a";
        await sshd.runEverywhere(program); // warm-up (page cache, host keys)
        const sshRuns: number[] = [];
        const agentRuns: number[] = [];
        const fifty = all.slice(0, SSH_HOSTS);
        await fanOut(fifty, { input: StringValueSchema, args: { value: program } });
        for (let round = 0; round < ROUNDS; round++) {
          sshRuns.push((await sshd.runEverywhere(program)).totalMs);
          agentRuns.push(
            (await fanOut(fifty, { input: StringValueSchema, args: { value: program } })).allArchivedMs,
          );
        }
        ssh = {
          hosts: SSH_HOSTS,
          command: program,
          rounds: ROUNDS,
          sshMedianMs: Math.round(median(sshRuns)),
          agentsMedianMs: Math.round(median(agentRuns)),
          ratio: Number((median(sshRuns) / median(agentRuns)).toFixed(1)),
          sshRunsMs: sshRuns.map(Math.round),
          agentRunsMs: agentRuns,
        };
        log(
          `${SSH_HOSTS} hosts "${program}": ssh ${ssh.sshMedianMs} ms vs agents ${ssh.agentsMedianMs} ms (×${ssh.ratio})`,
        );
      } finally {
        await sshd.stop();
      }
    }

    // 100 MB of output from one agent: the server side's memory must stay flat. First the same
    // window with no output, so that what the connected agents alone churn (keepalive pings,
    // timers) is told apart from what the output costs.
    const heavyBytes = 100 * 1024 * 1024;
    const idle = await peakGrowth(() => sleep(Number(process.env.BENCH_IDLE_SECONDS ?? 10) * 1000));
    log(`no output, ${n} agents connected: RSS +${idle.rssGrowthMb} MB ${JSON.stringify(idle.peakGrowthMb)}`);
    let heavy: Awaited<ReturnType<typeof fanOut>> | undefined;
    const growth = await peakGrowth(async () => {
      heavy = await fanOut(all.slice(0, 1), {
        input: UInt64ValueSchema,
        args: { value: BigInt(heavyBytes) },
      });
    });
    const seconds = (heavy?.allArchivedMs ?? Number.NaN) / 1000;
    const output = {
      bytes: heavyBytes,
      seconds,
      megabytesPerSecond: Number((100 / seconds).toFixed(1)),
      ...growth,
      idle,
      journalPeakBufferedMb: Number((runner.journal.peakBufferedBytes / 1048576).toFixed(1)),
      state: heavy?.failed === 0 ? "succeeded" : "failed",
    };
    log(
      `100 MB output: ${output.seconds} s (${output.megabytesPerSecond} MB/s), RSS +${output.rssGrowthMb} MB ${JSON.stringify(output.peakGrowthMb)} (journal peak ${output.journalPeakBufferedMb} MB)`,
    );

    const result = {
      n,
      workers: WORKERS,
      cpus: (await import("node:os")).cpus().length,
      fanout,
      ssh,
      output,
    };
    writeFileSync(path.join(resultsDir, `command-fanout-${n}.json`), `${JSON.stringify(result, null, 2)}\n`);
    stopping = true;
    await askWorkers(() => ({ type: "stopping" })); // their streams' ends are expected from now on
    await gateway.close();
    await runner.close();
    await writer.close();
    for (const worker of workers) worker.send({ type: "exit" });
    await sleep(1_000); // the gateway's last "offline" writes
    return result;
  } finally {
    stopping = true; // from here on, the load processes end because this run ends them
    for (const worker of workers) if (worker.exitCode === null) worker.kill();
    await client.end({ timeout: 5 });
    await cluster.stop();
  }
}

// A fresh clone has no results directory (it is ignored by git): make it before the first run.
mkdirSync(resultsDir, { recursive: true });
for (const n of sizes) await runBench(n);
process.exit(0);
