import { create, toBinary } from "@bufbuild/protobuf";
import {
  ScriptRunResultSchema,
  ScriptRunSchema,
} from "@ocore/proto/gen/ocore/agent/v1/script_commands_pb.js";
import { and, asc, eq, isNull, lte, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { rowsOf } from "../../platform/db/rows-of.js";
import { servers } from "../../platform/db/schema/servers.js";
import { commandRunHosts, commandRuns, commandTemplateVersions } from "../../platform/db/schema/templates.js";
import type { Queryable } from "../../platform/db/transaction.js";
import type { Logger } from "../../platform/logging/logger.js";
import { insertCommands, type NewCommand } from "../commands/command-records.js";
import type { CommandService } from "../commands/command-service.js";
import { agentIsOffline } from "../presence/agent-reachability.js";
import type { TemplateDefinition } from "../templates/template-definition.js";
import { budgetSpent, mayStart, type RateLimits } from "./rate-limits.js";
import { outcomesOfCommands, storeOutcomes } from "./record-outcomes.js";
import { auditRunEnd } from "./run-end-audit.js";

export interface RunDispatcherOptions {
  readonly db: Db;
  readonly commands: CommandService;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** This replica's name in run leases. */
  readonly replicaId: string;
  /** Whether this replica holds a live stream of the server's agent. */
  readonly isLive: (serverId: string) => boolean;
  /** How long a lease holds without renewal (another replica then takes the run over). */
  readonly leaseMs?: number;
  /** How often leases are renewed and orphaned runs claimed (0: only by calling tick()). */
  readonly tickEveryMs?: number;
  /** Output bytes a host sends at most (the rest is dropped on the host). */
  readonly maxOutputBytes?: number;
}

export interface RunDispatcher {
  /** Drives a run (claims its lease when free): dispatches, collects outcomes, finishes it. */
  kick(runId: string): void;
  /** Renews this replica's leases and takes over runs whose lease lapsed (restart, crash). */
  tick(): Promise<void>;
  /** Resolves when no step is in progress or queued (tests). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const ERROR_STATES = ["failed", "timed_out", "unreachable"] as const;
/** Pending hosts read per dispatch pass beyond the free slots (unreachable ones free their slot). */
const LOOKAHEAD = 200;

/**
 * Dispatches runs with rate control. Every decision is made in one transaction holding the run's
 * row lock and counting from the database (so replicas, restarts and late outcomes cannot race
 * it), one host at a time: an unreachable host is an error at once; once errors exceed the
 * budget no host starts, the pending ones are skipped, and the run ends `stopped` when the
 * running ones ended. Commands are inserted in the same transaction as the hosts' `running`
 * state, so a crash can neither lose a started host nor start one twice.
 */
export function createRunDispatcher(options: RunDispatcherOptions): RunDispatcher {
  const { db, commands, logger, replicaId } = options;
  const now = options.now ?? (() => new Date());
  const leaseMs = options.leaseMs ?? 30_000;
  const chains = new Map<string, Promise<void>>();
  /** Commands of each run that ended since its last step (their outcomes are read together). */
  const ended = new Map<string, string[]>();
  const watched = new Set<string>();
  const abort = new AbortController();
  let closed = false;

  const kick = (runId: string) => {
    if (closed) return;
    const previous = chains.get(runId) ?? Promise.resolve();
    const next = previous
      .then(() => step(runId))
      .catch((error: unknown) => logger.error({ err: error, runId }, "run dispatch step failed"));
    chains.set(runId, next);
    void next.finally(() => {
      if (chains.get(runId) === next) chains.delete(runId);
    });
  };

  const watch = (runId: string, commandId: string) => {
    if (watched.has(commandId)) return;
    watched.add(commandId);
    commands
      .wait(commandId, ScriptRunResultSchema, abort.signal)
      .then(() => {
        const list = ended.get(runId);
        if (list) list.push(commandId);
        else ended.set(runId, [commandId]);
        kick(runId);
      })
      .catch((error: unknown) => {
        if (!abort.signal.aborted)
          logger.error({ err: error, runId, commandId }, "could not follow a run's command");
      })
      .finally(() => watched.delete(commandId));
  };

  async function claim(runId: string): Promise<boolean> {
    const at = now();
    const claimed = await db
      .update(commandRuns)
      .set({ leaseOwner: replicaId, leaseUntil: new Date(at.getTime() + leaseMs) })
      .where(
        and(
          eq(commandRuns.id, runId),
          isNull(commandRuns.finishedAt),
          sql`(${commandRuns.leaseOwner} is null or ${commandRuns.leaseOwner} = ${replicaId} or ${commandRuns.leaseUntil} < ${at.toISOString()}::timestamptz)`,
        ),
      )
      .returning({ id: commandRuns.id });
    return claimed.length > 0;
  }

  async function step(runId: string): Promise<void> {
    if (!(await claim(runId))) return;
    const endedIds = ended.get(runId) ?? [];
    ended.delete(runId);
    const outcomes = await outcomesOfCommands(db, endedIds);
    const toDeliver = await db.transaction(async (tx) => {
      const [run] = await tx.select().from(commandRuns).where(eq(commandRuns.id, runId)).for("update");
      if (!run || run.finishedAt) return [];
      await storeOutcomes(tx, runId, outcomes);
      const wave = run.wave;
      const counts = await countHosts(tx, runId, wave);
      const state = {
        running: counts.get("running") ?? 0,
        errors: ERROR_STATES.reduce((sum, s) => sum + (counts.get(s) ?? 0), 0),
      };
      let pendingNow = counts.get("pending") ?? 0;
      const pendingLater = counts.get("pending later") ?? 0;
      const canaryWave = run.canary > 0 && wave === 0;
      // The canary's budget is zero: its first failure stops every further start.
      const limits: RateLimits = {
        concurrency: run.concurrency,
        maxErrors: canaryWave ? 0 : run.maxErrors,
      };
      const stored: Awaited<ReturnType<typeof insertCommands>> = [];
      if (run.state === "running" && pendingNow > 0 && !budgetSpent(limits, state)) {
        const [version] = await tx
          .select({ definition: commandTemplateVersions.definition })
          .from(commandTemplateVersions)
          .where(eq(commandTemplateVersions.id, run.versionId));
        const definition = version?.definition as TemplateDefinition;
        const candidates = await tx
          .select({
            serverId: commandRunHosts.serverId,
            argv: commandRunHosts.argv,
            env: commandRunHosts.env,
            name: servers.name,
            status: servers.status,
            lastSeenAt: servers.lastSeenAt,
          })
          .from(commandRunHosts)
          .innerJoin(servers, eq(servers.id, commandRunHosts.serverId))
          .where(
            and(
              eq(commandRunHosts.runId, runId),
              eq(commandRunHosts.state, "pending"),
              lte(commandRunHosts.wave, wave),
            ),
          )
          .orderBy(asc(commandRunHosts.position))
          .limit(Math.max(0, limits.concurrency - state.running) + LOOKAHEAD);
        const at = now();
        const unreachable: Array<{ s: string; e: number; r: string }> = [];
        const starting: Array<{ host: (typeof candidates)[number]; errors: number }> = [];
        for (const host of candidates) {
          if (!mayStart(limits, state)) break;
          pendingNow -= 1;
          if (!options.isLive(host.serverId) && agentIsOffline(host, at)) {
            const seen = host.lastSeenAt ? `last seen ${host.lastSeenAt.toISOString()}` : "never seen";
            unreachable.push({
              s: host.serverId,
              e: state.errors,
              r: `the agent is offline (${seen}); counted as an error`,
            });
            state.errors += 1;
            continue;
          }
          starting.push({ host, errors: state.errors });
          state.running += 1;
        }
        if (unreachable.length > 0) {
          await tx.execute(sql`update command_run_hosts h
            set state = 'unreachable', reason = r.r, errors_at_dispatch = r.e, finished_at = ${at.toISOString()}::timestamptz
            from json_to_recordset(${JSON.stringify(unreachable)}::json) as r(s uuid, e int, r text)
            where h.run_id = ${runId} and h.server_id = r.s`);
        }
        if (starting.length > 0) {
          const deadline = new Date(at.getTime() + (definition.timeoutSeconds + 60) * 1000);
          const news: NewCommand[] = starting.map(({ host }) => ({
            serverId: host.serverId,
            specType: ScriptRunSchema.typeName,
            spec: toBinary(ScriptRunSchema, scriptRunOf(runId, definition, host, options.maxOutputBytes)),
            deadline,
            actor: {
              kind: run.actorKind === "token" ? "api_token" : run.actorKind === "user" ? "user" : "system",
              id: run.actorId,
            },
            sendNow: options.isLive(host.serverId),
          }));
          stored.push(...(await insertCommands(tx, null, news, at)));
          const started = stored.map((row, i) => ({
            s: row.serverId,
            c: row.id,
            e: starting[i]?.errors ?? 0,
          }));
          await tx.execute(sql`update command_run_hosts h
            set state = 'running', command_id = r.c, errors_at_dispatch = r.e, started_at = ${at.toISOString()}::timestamptz
            from json_to_recordset(${JSON.stringify(started)}::json) as r(s uuid, c uuid, e int)
            where h.run_id = ${runId} and h.server_id = r.s`);
        }
      }
      let pending = pendingNow + pendingLater;
      const halt =
        run.state !== "running"
          ? undefined
          : canaryWave && state.errors > 0
            ? {
                skipped: `not started: the canary failed (${state.errors} of ${run.canary} canary hosts failed)`,
                stop: `canary failed: ${state.errors} of ${run.canary} canary hosts failed; no host after the canary started`,
              }
            : budgetSpent(limits, state)
              ? {
                  skipped: `not started: the error budget was spent (${state.errors} failures, max errors ${limits.maxErrors})`,
                  stop: `error budget spent: ${state.errors} failures with max errors ${limits.maxErrors}; no host started after failure ${limits.maxErrors + 1}`,
                }
              : undefined;
      if (halt && pending > 0) {
        await tx
          .update(commandRunHosts)
          .set({ state: "skipped", reason: halt.skipped })
          .where(and(eq(commandRunHosts.runId, runId), eq(commandRunHosts.state, "pending")));
        pending = 0;
      }
      if (run.state === "running" && !halt && state.running === 0 && pendingNow === 0 && pendingLater > 0) {
        // The wave ended within budget: open the next one, or wait for a human after the canary.
        const waves = run.waveSizes.length;
        if (canaryWave && run.canaryPause) {
          await tx
            .update(commandRuns)
            .set({
              state: "paused",
              stopReason: `paused after the canary: all ${run.canary} canary hosts succeeded; resume to start wave 2 of ${waves}`,
            })
            .where(eq(commandRuns.id, runId));
        } else {
          await tx
            .update(commandRuns)
            .set({ wave: wave + 1 })
            .where(eq(commandRuns.id, runId));
          queueMicrotask(() => kick(runId));
        }
      } else if (
        state.running === 0 &&
        run.state !== "paused" &&
        (pending === 0 || run.state !== "running")
      ) {
        const final =
          run.state !== "running" ? run.state : halt ? "stopped" : state.errors > 0 ? "failed" : "succeeded";
        const stopReason = final === "stopped" && halt ? halt.stop : run.stopReason;
        const finishedAt = now();
        await tx
          .update(commandRuns)
          .set({ state: final, stopReason, finishedAt, leaseOwner: null, leaseUntil: null })
          .where(eq(commandRuns.id, runId));
        await auditRunEnd(tx, run, final, stopReason, finishedAt);
      } else if (run.state === "running" && pendingNow > 0 && mayStart(limits, state) && stored.length > 0) {
        queueMicrotask(() => kick(runId)); // more pending hosts than this pass read
      }
      return stored;
    });
    if (toDeliver.length > 0) await commands.deliverStored(toDeliver);
    for (const row of toDeliver) watch(runId, row.id);
  }

  /** Follows the commands of a claimed run's running hosts (after a restart or takeover). */
  async function adopt(runId: string) {
    const running = await db
      .select({ commandId: commandRunHosts.commandId })
      .from(commandRunHosts)
      .where(and(eq(commandRunHosts.runId, runId), eq(commandRunHosts.state, "running")));
    for (const { commandId } of running) if (commandId) watch(runId, commandId);
    kick(runId);
  }

  async function tick() {
    const at = now();
    await db
      .update(commandRuns)
      .set({ leaseUntil: new Date(at.getTime() + leaseMs) })
      .where(and(eq(commandRuns.leaseOwner, replicaId), isNull(commandRuns.finishedAt)));
    const orphans = rowsOf<{ id: string }>(
      await db.execute(sql`select id from command_runs
        where finished_at is null and (lease_owner is null or lease_until < ${at.toISOString()}::timestamptz)
        limit 100`),
    );
    for (const { id } of orphans) if (await claim(id)) await adopt(id);
  }

  let timer: NodeJS.Timeout | undefined;
  const every = options.tickEveryMs ?? 10_000;
  if (every > 0) {
    const arm = () => {
      timer = setTimeout(() => {
        tick()
          .catch((error: unknown) => logger.warn({ err: error }, "run lease tick failed"))
          .finally(() => {
            if (!closed) arm();
          });
      }, every);
      timer.unref();
    };
    arm();
  }

  return {
    kick,
    tick,
    async idle() {
      while (chains.size > 0) await Promise.all([...chains.values()]);
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      abort.abort();
      await Promise.all([...chains.values()]);
    },
  };
}

function scriptRunOf(
  runId: string,
  definition: TemplateDefinition,
  host: { argv: string[]; env: Record<string, string> },
  maxOutputBytes = 1024 * 1024,
) {
  return create(ScriptRunSchema, {
    runId,
    interpreter: definition.interpreter,
    script: definition.script,
    argv: host.argv,
    env: host.env,
    runAs: definition.runAs,
    timeoutSeconds: definition.timeoutSeconds,
    memoryMaxMb: definition.memoryMaxMb,
    cpuQuotaPercent: definition.cpuQuotaPercent,
    tasksMax: definition.tasksMax,
    writePaths: definition.writePaths,
    maxOutputBytes,
  });
}

/**
 * Hosts per state; pending ones of waves after `wave` (not yet open) are counted as
 * "pending later".
 */
async function countHosts(tx: Queryable, runId: string, wave: number): Promise<Map<string, number>> {
  const rows = await tx
    .select({
      state: sql<string>`case when ${commandRunHosts.state} = 'pending' and ${commandRunHosts.wave} > ${wave} then 'pending later' else ${commandRunHosts.state} end`,
      n: sql<number>`count(*)::int`,
    })
    .from(commandRunHosts)
    .where(eq(commandRunHosts.runId, runId))
    .groupBy(sql`1`);
  return new Map(rows.map((row) => [row.state, Number(row.n)]));
}
