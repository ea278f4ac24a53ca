import { ScriptRunResultSchema } from "@ocore/proto/gen/ocore/agent/v1/script_commands_pb.js";
import pino from "pino";
import type { AuditContext } from "../../src/domain/audit/audit-context.js";
import type { CommandService } from "../../src/domain/commands/command-service.js";
import type { CommandLink } from "../../src/domain/commands/command-transport.js";
import { createCommandRunner } from "../../src/domain/commands/create-command-runner.js";
import { createRunDispatcher, type RunDispatcher } from "../../src/domain/runs/run-dispatcher.js";
import { getRun } from "../../src/domain/runs/run-queries.js";
import { type StartRunInput, startRun } from "../../src/domain/runs/start-run.js";
import { reviewVersion } from "../../src/domain/templates/review-version.js";
import { createTemplate } from "../../src/domain/templates/save-template.js";
import type { DatabaseKind } from "../../src/platform/db/database.js";
import { servers } from "../../src/platform/db/schema/servers.js";
import { createScriptedAgent, type ScriptedAgent, type ScriptedReply } from "./scripted-agent.js";
import { createTestDatabase, type TestDatabase } from "./test-databases.js";

const facts = {
  hostname: "h",
  osId: "debian",
  osVersion: "12",
  kernel: "6.1",
  architecture: "amd64",
  cpuCores: 2,
  memoryTotalBytes: 2 ** 31,
  bootedAt: null,
};

export const runUser = (id: string, name: string): AuditContext => ({
  actor: { type: "user", id, name },
  sourceIp: "",
  userAgent: "",
});

/** A host whose scripted agent succeeds with `output`. */
export const ok = (output: string): ScriptedReply => ({
  output: [
    ["progress", "sandbox: process (test)\n"],
    ["stdout", output],
  ],
  result: { schema: ScriptRunResultSchema, value: { sandbox: "process" } },
});

/** A host whose scripted agent fails (exit 1) with `output` on stderr. */
export const fail = (output: string): ScriptedReply => ({
  output: [
    ["progress", "sandbox: process (test)\n"],
    ["stderr", output],
  ],
  error: { code: "script_failed", message: "the script exited with 1 (sandbox: process)" },
});

export interface HostSpec {
  readonly online: boolean;
  readonly reply: () => ScriptedReply;
}

/**
 * Runs on scripted fleets (issue 17): the real command runner and run dispatcher on a test
 * database, each host's agent a scripted live stream (or none: an offline host). `sent` lists the
 * hosts in the order commands reached them; `inFlight`/`maxInFlight` count commands sent and not ended.
 */
export interface RunFleet {
  readonly database: TestDatabase;
  readonly runner: CommandService;
  readonly dispatcher: RunDispatcher;
  readonly agents: Map<string, ScriptedAgent>;
  readonly sent: string[];
  readonly stats: { inFlight: number; maxInFlight: number };
  fleet(specs: readonly HostSpec[]): Promise<string[]>;
  /** A template approved by a second user, running `script`. */
  approvedTemplate(key: string, script: string): Promise<string>;
  start(
    templateId: string,
    input: Partial<Omit<StartRunInput, "templateId">> & { serverIds: string[] },
  ): Promise<string>;
  /** Waits until every step and agent is idle, then returns the run as it is. */
  settled(runId: string): Promise<Awaited<ReturnType<typeof getRun>>>;
  finished(runId: string): Promise<Awaited<ReturnType<typeof getRun>>>;
  close(): Promise<void>;
}

export const alice = runUser("00000000-0000-4000-8000-0000000000a1", "alice");
export const bob = runUser("00000000-0000-4000-8000-0000000000b2", "bob");

export async function createRunFleet(kind: DatabaseKind): Promise<RunFleet> {
  const database = await createTestDatabase(kind);
  const agents = new Map<string, ScriptedAgent>();
  const sent: string[] = [];
  const stats = { inFlight: 0, maxInFlight: 0 };
  const links = {
    get(serverId: string): CommandLink | undefined {
      const link = agents.get(serverId)?.links.get(serverId);
      if (!link) return undefined;
      return {
        ...link,
        sendCommand(command) {
          stats.inFlight += 1;
          stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
          sent.push(serverId);
          link.sendCommand(command);
        },
      };
    },
  };
  const runner = createCommandRunner({
    db: database.db,
    links,
    logger: pino({ level: "silent" }),
    sweepEveryMs: 0,
    pollEveryMs: 50,
    replicaId: null,
    onEnded: () => {
      stats.inFlight -= 1;
    },
  });
  const dispatcher = createRunDispatcher({
    db: database.db,
    commands: runner,
    logger: pino({ level: "silent" }),
    replicaId: "test",
    tickEveryMs: 0,
    isLive: (id) => agents.has(id),
  });

  const settled = async (runId: string) => {
    await dispatcher.idle();
    await Promise.all([...agents.values()].map((a) => a.idle()));
    return getRun(database.db, runId);
  };

  return {
    database,
    runner,
    dispatcher,
    agents,
    sent,
    stats,
    async fleet(specs) {
      const rows = await database.db
        .insert(servers)
        .values(
          specs.map((s, i) => ({
            name: `h-${Math.random().toString(36).slice(2, 9)}-${i}`,
            status: s.online ? ("active" as const) : ("offline" as const),
            tags: { env: "prod" },
            facts,
          })),
        )
        .returning({ id: servers.id });
      rows.forEach((row, i) => {
        const spec = specs[i];
        if (!spec?.online) return;
        const agent = createScriptedAgent(row.id, () => runner.sink);
        agent.script = () => spec.reply();
        agents.set(row.id, agent);
      });
      return rows.map((r) => r.id);
    },
    async approvedTemplate(key, script) {
      const created = await createTemplate(
        database.db,
        alice,
        {
          key,
          definition: {
            name: "disk report for {arch}",
            type: "diagnostic",
            scope: "env=prod",
            description: "",
            examples: [],
            interpreter: "bash",
            script,
            argv: [],
            env: {},
            runAs: "nobody",
            timeoutSeconds: 30,
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
        database.db,
        bob,
        { versionId: created.latest.id, hash: created.latest.hash, note: "", decision: "approved" },
        new Date(),
      );
      return created.template.id;
    },
    async start(templateId, input) {
      const runId = await startRun(
        database.db,
        alice,
        {
          versionId: "",
          parameters: {},
          maxConcurrency: "",
          maxErrors: "",
          mayRunOn: () => true,
          ...input,
          templateId,
          targets: { serverIds: input.serverIds, selector: "" },
        },
        new Date(),
      );
      dispatcher.kick(runId);
      return runId;
    },
    settled,
    async finished(runId) {
      for (let i = 0; i < 400; i++) {
        const view = await settled(runId);
        if (view.run.finishedAt) return view;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`run ${runId} did not finish`);
    },
    async close() {
      await dispatcher.close();
      await runner.close();
      await database.close();
    },
  };
}
