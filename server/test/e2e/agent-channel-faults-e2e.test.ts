import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { ScriptRunSchema } from "@ocore/proto/gen/ocore/agent/v1/script_commands_pb.js";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "../../src/platform/db/rows-of.js";
import { startCommandGateway } from "../support/command-gateway.js";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";

const run = promisify(execFile);
const agentMain = new URL("../../../agent/dist/main.js", import.meta.url).pathname;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const AGENTS = 3;
const COMMANDS_PER_AGENT = Number(process.env.FAULT_COMMANDS_PER_AGENT ?? 15);
const DISCONNECTS = Number(process.env.FAULT_DISCONNECTS ?? 25);
// `npm run bench:faults` runs this file with 1,000 disconnects: the budget grows with the count.
const BUDGET_MS = 120_000 + DISCONNECTS * 1_500 + AGENTS * COMMANDS_PER_AGENT * 1_000;
const actor = { kind: "system" as const, id: null };
// Appends the command's marker to the agent's log file (its side effect: one line per run),
// works a little, then says it is done (its result: the output the server must archive).
const SCRIPT = `printf '%s\\n' "$1" >> "$2"; sleep 0.3; printf 'done %s\\n' "$1"`;

/**
 * The agent channel under injected faults (decision 0200): real agent processes through the
 * fault proxy to the real gateway, command runner and metric writer on PostgreSQL. Connections
 * are reset or dropped over and over while commands fan out and samples stream: no command may
 * run twice or lose its result, no sample may be lost. Then the path is blackholed (no FIN, no
 * RST): both sides must notice within the offline-detection bound.
 */
describe("agent channel under injected faults", () => {
  let gateway: Awaited<ReturnType<typeof startCommandGateway>>;
  let proxy: FaultProxy;
  const agents: ChildProcess[] = [];
  const hosts: Array<{ serverId: string; log: string }> = [];
  const workDir = mkdtempSync(path.join(os.tmpdir(), "ocore-faults-"));

  beforeAll(async () => {
    gateway = await startCommandGateway("postgres", { realTime: true, metricsIntervalSeconds: 1 });
    proxy = await startFaultProxy({ host: "127.0.0.1", port: gateway.port });
    for (let i = 0; i < AGENTS; i++) {
      const { serverId, token } = await gateway.serverWithToken();
      await gateway.database.db.execute(sql`update servers set status = 'active' where id = ${serverId}`);
      const env = {
        PATH: process.env.PATH ?? "",
        OCORE_AGENT_STATE_DIR: mkdtempSync(path.join(workDir, "agent-")),
        OCORE_AGENT_DOCKER_SOCKET: "off",
        OCORE_AGENT_LOG_LEVEL: "warn",
        // Many resets in a row would otherwise grow the backoff towards its 60 s default cap.
        OCORE_AGENT_RECONNECT_MAX_SECONDS: "2",
      };
      // Through the proxy: the gateway's certificate names 127.0.0.1, whatever the port.
      await run(
        process.execPath,
        [agentMain, "enroll", "--server", `127.0.0.1:${proxy.port}`, "--token", token],
        {
          env,
        },
      );
      agents.push(spawn(process.execPath, [agentMain, "run"], { env, stdio: "ignore" }));
      hosts.push({ serverId, log: path.join(workDir, `runs-${i}.log`) });
    }
    const deadline = Date.now() + 60_000;
    while (gateway.gateway.registry.size < AGENTS) {
      if (Date.now() > deadline) throw new Error("the agents did not all connect");
      await sleep(200);
    }
  });

  afterAll(async () => {
    for (const agent of agents) agent.kill("SIGTERM");
    await Promise.all(
      agents.map((agent) =>
        agent.exitCode === null && agent.signalCode === null
          ? new Promise((resolve) => agent.once("exit", resolve))
          : undefined,
      ),
    );
    await proxy?.close();
    await gateway?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  const query = async <T>(statement: ReturnType<typeof sql>) =>
    rowsOf<T>(await gateway.database.db.execute(statement));

  it("runs every command exactly once and keeps every result and sample through repeated disconnects", {
    timeout: BUDGET_MS + 60_000,
  }, async () => {
    const user = os.userInfo().username;
    const ids = await gateway.runner.submitMany(
      hosts.flatMap((host) =>
        Array.from({ length: COMMANDS_PER_AGENT }, (_, n) => ({
          serverId: host.serverId,
          input: ScriptRunSchema,
          args: {
            runId: `fault-${n}`,
            interpreter: "sh",
            script: SCRIPT,
            argv: [`m${n}`, host.log],
            runAs: user,
            timeoutSeconds: 60,
            writePaths: [workDir],
          },
          deadline: new Date(Date.now() + BUDGET_MS),
          actor,
        })),
      ),
    );
    const finalCount = async () =>
      (
        await query<{ n: number }>(
          sql`select count(*)::int as n from commands where state in ('succeeded','failed','timed_out','cancelled')`,
        )
      )[0]?.n ?? 0;

    // Inject until the count is reached and every command has ended: resets and clean closes,
    // 0.2-0.8 s apart, so they land in every phase (handshake, delivery, running, events, acks).
    let injected = 0;
    let resets = 0;
    const deadline = Date.now() + BUDGET_MS;
    while (injected < DISCONNECTS || (await finalCount()) < ids.length) {
      if (Date.now() > deadline) throw new Error(`not done: ${await finalCount()}/${ids.length} ended`);
      await sleep(200 + Math.random() * 600);
      if (injected >= DISCONNECTS) continue;
      const closed = injected % 2 === 0 ? proxy.reset() : proxy.drop();
      if (injected % 2 === 0) resets += closed;
      injected += closed > 0 ? 1 : 0;
    }

    const commands = await query<{ id: string; state: string; error_code: string | null }>(
      sql`select id, state, error_code from commands`,
    );
    expect(commands).toHaveLength(ids.length);
    expect(commands.filter((c) => c.state !== "succeeded")).toEqual([]);
    // Each command's side effect happened once: its marker is in its host's log exactly once.
    for (const host of hosts) {
      const lines = readFileSync(host.log, "utf8").trim().split("\n").sort();
      expect(lines).toEqual(Array.from({ length: COMMANDS_PER_AGENT }, (_, n) => `m${n}`).sort());
    }
    // Each result arrived exactly once: the archived stdout of a command is its one "done" line.
    // A chunk written to a stream that died in flight is written again on the next stream
    // (decision 0250) and stored once, so none is missing and none is doubled.
    const outputs = await query<{ command_id: string; text: string }>(
      sql`select command_id, string_agg(convert_from(data, 'UTF8'), '' order by sequence) as text
          from command_output where stream = 1 group by command_id`,
    );
    for (const output of outputs) expect(output.text).toMatch(/^done m\d+\n$/);
    expect(outputs).toHaveLength(ids.length);

    // Samples: let the spools drain with the faults off, then every sequence from the first to
    // the last arrived (the primary key (server_id, sequence) makes a replayed duplicate a no-op).
    await sleep(4_000);
    const samples = await query<{ server_id: string; n: number; first: number; last: number }>(
      sql`select server_id, count(*)::int as n, min(sequence)::int as first, max(sequence)::int as last
          from metric_samples group by server_id`,
    );
    expect(samples).toHaveLength(AGENTS);
    for (const host of samples) {
      expect(host.n).toBe(host.last - host.first + 1);
      expect(host.n).toBeGreaterThan(5);
    }
    process.stderr.write(
      `faults: ${injected} disconnects injected (${resets} connections reset, the rest closed), ` +
        `${ids.length} commands all succeeded once with their output, samples per host ${samples.map((s) => s.n).join("/")} without a gap\n`,
    );
  });

  it("finds a blackholed path on both sides within the offline bound, and recovers", {
    timeout: 120_000,
  }, async () => {
    const deadline = Date.now() + 60_000;
    const statuses = async () =>
      await query<{ id: string; status: string }>(sql`select id, status from servers`);
    while ((await statuses()).some((s) => s.status !== "active") || gateway.gateway.registry.size < AGENTS) {
      if (Date.now() > deadline) throw new Error("agents not all back before the blackhole");
      await sleep(200);
    }
    await sleep(2_000);
    const acceptedBefore = proxy.accepted;
    proxy.blackhole(true);
    const cutAt = Date.now();
    let serverSawAllAt: number | undefined;
    let agentsRedialedAt: number | undefined;
    while ((serverSawAllAt === undefined || agentsRedialedAt === undefined) && Date.now() - cutAt < 60_000) {
      if (serverSawAllAt === undefined && (await statuses()).every((s) => s.status === "offline"))
        serverSawAllAt = Date.now() - cutAt;
      // Each agent gave its stream up and dialled again (the new connections are blackholed too).
      if (agentsRedialedAt === undefined && proxy.accepted - acceptedBefore >= AGENTS)
        agentsRedialedAt = Date.now() - cutAt;
      await sleep(100);
    }
    process.stderr.write(
      `half-open: server showed all ${AGENTS} hosts offline after ${serverSawAllAt} ms, ` +
        `the agents redialled after ${agentsRedialedAt} ms\n`,
    );
    // The bound is 15 s on each side (decision 0141, 0201); the agent's redial adds its backoff (≤ 2 s here).
    expect(serverSawAllAt).toBeLessThanOrEqual(15_000);
    expect(agentsRedialedAt).toBeLessThanOrEqual(17_000);

    proxy.blackhole(false);
    proxy.reset();
    const back = Date.now() + 60_000;
    while ((await statuses()).some((s) => s.status !== "active")) {
      if (Date.now() > back) throw new Error("agents did not come back after the blackhole");
      await sleep(200);
    }
  });
});
