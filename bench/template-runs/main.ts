// Template run benchmark (issue 17): an approved template run on N simulated agents (own mTLS
// connection each, the agent's real command executor, in forked load processes; the ScriptRun
// handler echoes instead of forking bash, see bench-handlers.ts) through the real gateway, command
// runner and run dispatcher on a throwaway PostgreSQL. Measured per N:
//   1. raw fan-out: one tiny command to every agent (runner.submitMany), submit → all archived;
//   2. run at 100 % concurrency: StartRun's work (render + store N hosts), dispatch (start → no host
//      pending) and end to end (start → run finished, every result archived on its host row);
//   3. run at 10 % concurrency with 5 % injected failures and max errors 1 %: hosts started after
//      the error budget was spent (must be 0), failures against max errors + concurrency;
//      the same in waves ("2%, 10%, rest", and a 1% canary then 10% waves): one budget across
//      the waves, no host started after it or before the wave before it ended;
//   4. WatchRun's cost on the finished N-host run: the full read (getRun) versus the one-query
//      signature it now polls between changes.
// Run with `npm run bench:runs -- [N ...]` (default 1000). Env: BENCH_WORKERS (2).
// Results: bench/results/template-runs-<N>.json.
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { UInt64ValueSchema } from "@bufbuild/protobuf/wkt";
import {
  createAgentGateway,
  createCommandRunner,
  createDatabase,
  createMasterKeyring,
  createMetricWriter,
  createRunDispatcher,
  createTemplate,
  ensureAgentPki,
  getRun,
  reviewVersion,
  runSignature,
  SessionRegistry,
  startRun,
} from "@ocore/server/testing";
import { startCluster } from "@ocore/server/testing/postgres-cluster";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import { pino } from "pino";
import postgres from "postgres";
import { createIdentities } from "../agent-fleet/identities.ts";
import { readCounts } from "../cli-args.ts";
import type { FanoutWorkerPlan } from "../command-fanout/agents-worker.ts";

const sizes = readCounts(
  "usage: npm run bench:runs -- [agents ...]   (default 1000; env BENCH_WORKERS)",
  [1000],
);
const root = new URL("../..", import.meta.url).pathname;
const resultsDir = path.join(root, "bench/results");
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ms = (from: number) => Math.round(performance.now() - from);
const person = (id: string, name: string) => ({
  actor: { type: "user" as const, id, name },
  sourceIp: "",
  userAgent: "bench",
});
const author = person("00000000-0000-4000-8000-0000000000a1", "author");
const approver = person("00000000-0000-4000-8000-0000000000b2", "approver");

async function medianMs(times: number, work: () => Promise<unknown>) {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    await work();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return Math.round((samples[Math.floor(samples.length / 2)] ?? 0) * 10) / 10;
}

async function runBench(n: number) {
  const cluster = await startCluster();
  const migrations = createDatabase({ kind: "postgres", url: cluster.url, poolSize: 1 });
  // The server's pool size, plus a count of the statements sent (round trips).
  let statements = 0;
  const client = postgres(cluster.url, {
    max: 10,
    onnotice: () => {},
    debug: () => {
      statements += 1;
    },
  });
  const db = drizzle(client) as never as ReturnType<typeof createDatabase>["db"];
  // The benchmark's own polling has its own connection: it never queues behind the server's work.
  const probeClient = postgres(cluster.url, { max: 1, onnotice: () => {} });
  const workers: ChildProcess[] = [];
  const logger = pino({ level: process.env.BENCH_LOG_LEVEL ?? "error" });
  try {
    await migrations.migrate();
    await migrations.close();
    const masterKey = randomBytes(32).toString("base64");
    const pki = await ensureAgentPki(db, {
      keyring: createMasterKeyring(masterKey),
      hostnames: ["localhost", "127.0.0.1"],
      installationId: "bench",
      logger,
    });
    const endedAt = new Map<string, number>();
    let onEnd: (() => void) | undefined;
    const registry = new SessionRegistry();
    const runner = createCommandRunner({
      db,
      links: registry,
      logger,
      onEnded: (commandId: string) => {
        endedAt.set(commandId, performance.now());
        onEnd?.();
      },
    });
    const writer = createMetricWriter(db, { logger });
    const gateway = createAgentGateway({
      db,
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
    const dispatcher = createRunDispatcher({
      db,
      commands: runner as never,
      logger,
      replicaId: "bench",
      tickEveryMs: 0,
      isLive: (serverId: string) => registry.get(serverId) !== undefined,
    });

    const { caPem, agents } = await createIdentities(cluster.url, masterKey, n);
    for (let w = 0; w < WORKERS; w++) {
      workers.push(fork(path.join(root, "bench/command-fanout/agents-worker.ts"), [], { stdio: "inherit" }));
    }
    let t = performance.now();
    await Promise.all(
      workers.map((worker, w) => {
        const plan: FanoutWorkerPlan = {
          address: `127.0.0.1:${port}`,
          caPem,
          agents: agents.filter((_, i) => i % WORKERS === w),
          connectConcurrency: 32,
        };
        return new Promise((resolve) => {
          worker.once("message", resolve);
          worker.send({ type: "connect", plan });
        });
      }),
    );
    while (registry.size < n && performance.now() - t < 300_000) await sleep(100);
    log(`${registry.size}/${n} agents live in ${(ms(t) / 1000).toFixed(1)} s`);
    const serverIds = agents.map((a) => a.serverId);

    // 1. Raw fan-out of one tiny command (0 bytes of output), for comparison.
    endedAt.clear();
    const rawStatementsBefore = statements;
    t = performance.now();
    const ids = await runner.submitMany(
      serverIds.map((serverId) => ({
        serverId,
        input: UInt64ValueSchema,
        args: { value: 0n },
        deadline: new Date(Date.now() + 120_000),
        actor: { kind: "system" as const, id: null },
      })) as never,
    );
    await new Promise<void>((resolve) => {
      onEnd = () => {
        if (ids.every((id: string) => endedAt.has(id))) resolve();
      };
      onEnd();
    });
    onEnd = undefined;
    const rawFanoutMs = ms(t);
    const rawStatements = statements - rawStatementsBefore;
    log(`raw fan-out to ${n}: ${rawFanoutMs} ms (${rawStatements} SQL statements)`);

    const created = await createTemplate(
      db,
      author,
      {
        key: "bench-echo",
        definition: {
          name: "echo on {tag.fail}",
          type: "diagnostic",
          scope: "",
          description: "bench",
          examples: [],
          interpreter: "bash",
          script: 'echo ok "$@"; [ "$FAIL" != 1 ]',
          argv: ["{tag.fail}"],
          env: { FAIL: "{tag.fail}" },
          runAs: "nobody",
          timeoutSeconds: 60,
          memoryMaxMb: 0,
          cpuQuotaPercent: 0,
          tasksMax: 0,
          writePaths: [],
          parameters: [],
        },
      },
      new Date(),
    );
    await reviewVersion(
      db,
      approver,
      { versionId: created.latest.id, hash: created.latest.hash, note: "", decision: "approved" },
      new Date(),
    );

    const timedRun = async (
      maxConcurrency: string,
      maxErrors: string,
      rollout: { readonly canary?: string; readonly waves?: string } = {},
    ) => {
      const statementsBefore = statements;
      const t0 = performance.now();
      const runId = await startRun(
        db,
        author,
        {
          templateId: created.template.id,
          versionId: "",
          parameters: {},
          targets: { serverIds: [], selector: "fail in (0,1)" },
          maxConcurrency,
          maxErrors,
          ...rollout,
          mayRunOn: () => true,
        },
        new Date(),
      );
      const startMs = ms(t0);
      dispatcher.kick(runId);
      let dispatchMs = 0;
      for (;;) {
        const [row] = await probeClient<Array<{ done: boolean; pending: number }>>`select
            (select finished_at is not null from command_runs where id = ${runId}) as done,
            (select count(*)::int from command_run_hosts where run_id = ${runId} and state = 'pending') as pending`;
        if (!dispatchMs && row && row.pending === 0) dispatchMs = ms(t0);
        if (row?.done) break;
        await sleep(25);
      }
      const endToEndMs = ms(t0);
      const used = statements - statementsBefore;
      const { run, hosts } = await getRun(db, runId);
      return { runId, startMs, dispatchMs, endToEndMs, run, hosts, statements: used };
    };

    // 2. 100 % concurrency, no failures.
    await db.execute(sql`update servers set tags = '{"fail":"0"}'::jsonb`);
    const full = await timedRun("100%", "0");
    log(
      `run at 100%: StartRun ${full.startMs} ms, dispatched ${full.dispatchMs} ms, end to end ${full.endToEndMs} ms (${full.run.state}, ${full.run.counts.succeeded ?? 0} succeeded, ${full.statements} SQL statements)`,
    );

    // 4. WatchRun: full read vs the signature, on the finished N-host run.
    const watch = {
      fullReadMedianMs: await medianMs(10, () => getRun(db, full.runId)),
      signatureMedianMs: await medianMs(10, () => runSignature(db, full.runId)),
    };
    log(
      `WatchRun: full read ${watch.fullReadMedianMs} ms, signature ${watch.signatureMedianMs} ms (medians of 10)`,
    );

    // 3. 10 % concurrency, 5 % injected failures, max errors 1 %.
    await db.execute(sql`update servers set tags = jsonb_build_object('fail', case when s.k % 20 = 0 then '1' else '0' end)
      from (select id, row_number() over (order by id) as k from servers) s where s.id = servers.id`);
    const budget = await timedRun("10%", "1%");
    const failed = budget.hosts.filter((h) =>
      ["failed", "timed_out", "unreachable"].includes(h.state),
    ).length;
    const lateStarts = budget.hosts.filter(
      (h) => h.errorsAtDispatch !== null && h.errorsAtDispatch > budget.run.maxErrors,
    ).length;
    const budgetResult = {
      state: budget.run.state,
      concurrency: budget.run.concurrency,
      maxErrors: budget.run.maxErrors,
      failed,
      bound: budget.run.maxErrors + budget.run.concurrency,
      started: budget.hosts.filter((h) => h.commandId).length,
      skipped: budget.run.counts.skipped ?? 0,
      dispatchedAfterBudget: budget.run.dispatchedAfterBudget,
      lateStartsCounted: lateStarts,
      endToEndMs: budget.endToEndMs,
      sqlStatements: budget.statements,
    };
    log(`run at 10% with 5% failures: ${JSON.stringify(budgetResult)}`);

    // 5. The same failures in waves (decision 0230): one budget across waves, nothing started
    // after it is spent, no host of a wave started before the wave before it ended.
    const inWaves = async (rollout: { canary?: string; waves?: string }) => {
      const r = await timedRun("10%", "1%", rollout);
      const ends = new Map<number, number>();
      for (const h of r.hosts)
        if (h.finishedAt) ends.set(h.wave, Math.max(ends.get(h.wave) ?? 0, h.finishedAt.getTime()));
      const overlapping = r.hosts.filter(
        (h) =>
          h.startedAt && [...ends].some(([w, end]) => w < h.wave && end > (h.startedAt as Date).getTime()),
      ).length;
      const started = (w: number) => r.hosts.filter((h) => h.wave === w && h.commandId).length;
      return {
        rollout,
        state: r.run.state,
        stopReason: r.run.stopReason,
        waveSizes: r.run.waveSizes,
        startedPerWave: r.run.waveSizes.map((_, w) => started(w)),
        failed: r.hosts.filter((h) => ["failed", "timed_out", "unreachable"].includes(h.state)).length,
        maxErrors: r.run.maxErrors,
        dispatchedAfterBudget: r.run.dispatchedAfterBudget,
        startedBeforePreviousWaveEnded: overlapping,
        endToEndMs: r.endToEndMs,
      };
    };
    const waves = [await inWaves({ waves: "2%, 10%, rest" }), await inWaves({ canary: "1%", waves: "10%" })];
    for (const w of waves) log(`run in waves: ${JSON.stringify(w)}`);

    const result = {
      at: new Date().toISOString(),
      n,
      workers: WORKERS,
      cpus: os.cpus().length,
      load: os.loadavg(),
      rawFanoutMs,
      rawStatements,
      full: {
        startRunMs: full.startMs,
        dispatchMs: full.dispatchMs,
        endToEndMs: full.endToEndMs,
        state: full.run.state,
        succeeded: full.run.counts.succeeded ?? 0,
        sqlStatements: full.statements,
        ratioToRawFanout: Math.round((full.endToEndMs / rawFanoutMs) * 100) / 100,
      },
      budget: budgetResult,
      waves,
      watch,
    };
    writeFileSync(path.join(resultsDir, `template-runs-${n}.json`), `${JSON.stringify(result, null, 2)}\n`);
    await dispatcher.close();
    for (const worker of workers) worker.send({ type: "stopping" });
    await gateway.close();
    await runner.close();
    await writer.close();
    for (const worker of workers) worker.send({ type: "exit" });
    await sleep(500);
    return result;
  } finally {
    for (const worker of workers) if (worker.exitCode === null) worker.kill();
    await client.end({ timeout: 5 });
    await probeClient.end({ timeout: 5 });
    await cluster.stop();
  }
}

mkdirSync(resultsDir, { recursive: true });
for (const n of sizes) await runBench(n);
process.exit(0);
