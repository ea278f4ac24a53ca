import { randomUUID } from "node:crypto";
import { create, type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { eq } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { commands } from "../../platform/db/schema/commands.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Logger } from "../../platform/logging/logger.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { type CommandDelivery, createCommandDelivery } from "./command-delivery.js";
import { type CommandFeed, createCommandFeed } from "./command-feed.js";
import { type CommandJournal, createCommandJournal } from "./command-journal.js";
import { type CommandNudges, createCommandNudges } from "./command-nudges.js";
import {
  auditContextOfActor,
  type CommandRow,
  endedAmong,
  expireOverdueCommands,
  type FinalState,
  finishCommand,
  getCommand,
  insertCommands,
  isFinal,
  queuedCommands,
} from "./command-records.js";
import type { CommandActor, CommandOutcome, CommandRunner, SubmitCommand } from "./command-runner.js";
import type { CommandEventSink, CommandLinks } from "./command-transport.js";

export interface CommandRunnerOptions {
  readonly db: Db;
  readonly links: CommandLinks;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** How often expired commands are timed out (0: only when sweep() is called, for tests). */
  readonly sweepEveryMs?: number;
  /** How long after its deadline a sent or running command waits for its agent's own timeout. */
  readonly deadlineGraceMs?: number;
  /** How often wait() re-reads a command (another replica may end it). */
  readonly pollEveryMs?: number;
  readonly journal?: {
    readonly maxBufferedBytes?: number;
    readonly maxBatchBytes?: number;
    readonly lanes?: number;
    readonly copyFromBytes?: number;
  };
  /**
   * This replica's id in cross-replica nudges (LISTEN/NOTIFY on ocore_commands); null: neither
   * listen nor notify (a single process that holds every agent, e.g. the benchmark).
   */
  readonly replicaId?: string | null;
  /** Called when a command's end is stored (metrics, benchmarks). */
  readonly onEnded?: (commandId: string, state: FinalState) => void;
}

/** The runner, plus what the gateway, the API and start-up need. */
export interface CommandService extends CommandRunner {
  submit<I extends DescMessage>(
    command: SubmitCommand<I>,
    context?: AuditContext,
  ): Promise<{ readonly commandId: string }>;
  /** Many commands in one transaction with one audit entry (fan-out to a fleet). */
  submitMany<I extends DescMessage>(
    commands: readonly SubmitCommand<I>[],
    context?: AuditContext,
  ): Promise<readonly string[]>;
  /** `context` null: not audited (the caller of a read went away; nothing it changed is stopped). */
  cancel(
    commandId: string,
    actor: CommandActor,
    reason: string,
    context?: AuditContext | null,
  ): Promise<void>;
  /**
   * Delivers commands a caller stored with insertCommands inside its own transaction (so that
   * they commit together with its own rows), once that transaction committed.
   */
  deliverStored(rows: readonly CommandRow[]): Promise<void>;
  /** Times out commands past their deadline (runs on a timer; tests call it). */
  sweep(): Promise<void>;
  readonly sink: CommandEventSink;
  readonly feed: CommandFeed;
  readonly journal: CommandJournal;
  readonly delivery: CommandDelivery;
  /** Cross-replica nudges (undefined when replicaId is null). */
  readonly nudges: CommandNudges | undefined;
  close(): Promise<void>;
}

function outcomeOf<O extends DescMessage>(row: CommandRow, output: O): CommandOutcome<O> {
  let result: MessageShape<O> | undefined;
  if (row.state === "succeeded" && row.result) {
    if (row.resultType !== output.typeName) {
      throw new AppError(
        "internal",
        `command ${row.id} returned a ${row.resultType ?? "untyped"} result where ${output.typeName} was expected; the agent and server versions may not match`,
      );
    }
    result = fromBinary(output, row.result);
  }
  return {
    commandId: row.id,
    state: row.state as FinalState,
    result,
    exitCode: row.exitCode,
    errorCode: row.errorCode,
    errorMessage: row.errorMessage,
  };
}

/**
 * The command runner: persists commands, delivers them over live agent streams (and again after
 * a reconnect, until their deadline), stores their events through a group-commit journal, feeds
 * watchers live, and times out what passed its deadline.
 */
export function createCommandRunner(options: CommandRunnerOptions): CommandService {
  const { db, links, logger } = options;
  const now = options.now ?? (() => new Date());
  const graceMs = options.deadlineGraceMs ?? 10_000;
  const feed = createCommandFeed();
  const waiters = new Map<string, Set<() => void>>();
  let sweepTimer: NodeJS.Timeout | undefined;

  const ended = (commandId: string, state: FinalState) => {
    delivery.forget(commandId);
    feed.publish(commandId, { kind: "finished", state });
    const set = waiters.get(commandId);
    waiters.delete(commandId);
    for (const wake of set ?? []) wake();
    options.onEnded?.(commandId, state);
  };

  const journal = createCommandJournal(db, {
    logger,
    ...options.journal,
    onCommitted(committed) {
      for (const commandId of committed.started) feed.publish(commandId, { kind: "started" });
      for (const output of committed.output) {
        feed.publish(output.commandId, {
          kind: "output",
          sequence: output.sequence,
          stream: output.stream,
          data: output.data,
        });
      }
      for (const { commandId, state } of committed.finished) ended(commandId, state);
    },
  });
  const delivery = createCommandDelivery({ db, journal, logger, now });

  /** Another replica committed commands or cancels: deliver what waits for the agents held here. */
  const afterNudge = async () => {
    for (const row of await queuedCommands(db, now(), 10_000)) {
      const link = links.get(row.serverId);
      if (link?.live) await delivery.send(link, row);
    }
    const open = delivery.openOnLiveStreams();
    const linkOf = new Map(open.map(({ commandId, link }) => [commandId, link]));
    for (const { id, state } of await endedAmong(
      db,
      open.map((entry) => entry.commandId),
    )) {
      linkOf
        .get(id)
        ?.sendCancel(
          id,
          `the command was ${state === "cancelled" ? "cancelled" : "ended"} on another oCore replica`,
        );
      ended(id, state);
    }
  };
  const replicaId = options.replicaId === undefined ? randomUUID() : options.replicaId;
  const nudges: CommandNudges | undefined =
    replicaId === null ? undefined : createCommandNudges(db, { replicaId, logger, onNudge: afterNudge });

  const deliverNew = async (rows: readonly CommandRow[]) => {
    for (const row of rows) {
      const link = links.get(row.serverId);
      if (link?.live) await delivery.send(link, row);
    }
  };

  const toNew = <I extends DescMessage>(command: SubmitCommand<I>) => ({
    serverId: command.serverId,
    sendNow: links.get(command.serverId)?.live === true,
    specType: command.input.typeName,
    spec: toBinary(command.input, create(command.input, command.args)),
    deadline: command.deadline,
    actor: command.actor,
  });

  const runner: CommandService = {
    feed,
    journal,
    delivery,
    nudges,
    sink: {
      onLive(link) {
        delivery
          .deliverAll(link)
          .catch((error: unknown) =>
            logger.error({ err: error, serverId: link.serverId }, "could not deliver queued commands"),
          );
      },
      onEvent: (link, event) => delivery.handleEvent(link, event),
    },
    async submit(command, context) {
      const [row] = await insertCommands(
        db,
        command.audit === false ? null : (context ?? auditContextOfActor(command.actor)),
        [toNew(command)],
        now(),
      );
      await deliverNew([row as CommandRow]);
      if ((row as CommandRow).state === "queued") nudges?.notify();
      return { commandId: (row as CommandRow).id };
    },
    async submitMany(list, context) {
      const first = list[0];
      if (!first) throw AppError.invalid("commands", "is empty");
      const rows = await insertCommands(
        db,
        context ?? auditContextOfActor(first.actor),
        list.map(toNew),
        now(),
      );
      await deliverNew(rows);
      if (rows.some((row) => row.state === "queued")) nudges?.notify();
      return rows.map((row) => row.id);
    },
    async deliverStored(rows) {
      await deliverNew(rows);
      if (rows.some((row) => row.state === "queued")) nudges?.notify();
    },
    async wait(commandId, output, signal) {
      for (;;) {
        signal?.throwIfAborted();
        const row = await getCommand(db, commandId);
        if (isFinal(row.state)) return outcomeOf(row, output);
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", wake);
            waiters.get(commandId)?.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, options.pollEveryMs ?? 5_000);
          signal?.addEventListener("abort", wake, { once: true });
          let set = waiters.get(commandId);
          if (!set) {
            set = new Set();
            waiters.set(commandId, set);
          }
          set.add(wake);
        });
      }
    },
    async run(command, signal) {
      const { commandId } = await runner.submit(command);
      const outcome = await runner.wait(commandId, command.output, signal);
      if (outcome.state === "succeeded") return outcome.result ?? create(command.output);
      const why = `${outcome.errorMessage ?? outcome.state} (${outcome.errorCode ?? outcome.state}, command ${commandId})`;
      const kind = command.input.typeName.split(".").at(-1);
      if (outcome.state === "timed_out")
        throw new AppError("unavailable", `${kind} did not finish in time: ${why}`);
      throw new AppError("failed_precondition", `${kind} ${outcome.state}: ${why}`);
    },
    async cancel(commandId, actor, reason, context) {
      AppError.requireId(commandId);
      const why = reason.trim();
      if (why.length > 500) throw AppError.invalid("reason", "must be at most 500 characters");
      const audit = context === null ? null : (context ?? auditContextOfActor(actor));
      const link = (serverId: string) => {
        const current = links.get(serverId);
        return current?.live ? current : undefined;
      };
      const outcome = await db.transaction(async (tx) => {
        const [row] = await tx.select().from(commands).where(eq(commands.id, commandId)).for("update");
        if (!row) throw AppError.notFound(`command ${commandId}`);
        if (isFinal(row.state)) {
          throw new AppError(
            "failed_precondition",
            `command ${commandId} already ended (${row.state}); there is nothing to cancel`,
          );
        }
        const viaAgent = row.state !== "queued" && link(row.serverId) !== undefined;
        if (!viaAgent) {
          const message =
            row.state === "queued"
              ? `cancelled before it was sent${why ? `: ${why}` : ""}`
              : `cancelled while the agent was offline${why ? `: ${why}` : ""}; if it had started it may still be running on the host`;
          await finishCommand(tx, commandId, {
            state: "cancelled",
            errorCode: "cancelled",
            errorMessage: message,
            finishedAt: now(),
          });
        }
        if (audit) {
          await recordAudit(
            tx,
            audit,
            {
              action: "command.cancel",
              targetType: "command",
              targetId: commandId,
              before: { state: row.state },
              after: { state: viaAgent ? "cancelling" : "cancelled", reason: why },
            },
            now(),
          );
        }
        return { serverId: row.serverId, viaAgent, elsewhere: !viaAgent && row.state !== "queued" };
      });
      if (outcome.viaAgent) link(outcome.serverId)?.sendCancel(commandId, why || "cancelled by a user");
      else ended(commandId, "cancelled");
      if (outcome.elsewhere) nudges?.notify(); // its agent may be connected to another replica
    },
    async sweep() {
      const expired = await expireOverdueCommands(db, now(), graceMs);
      for (const command of expired) {
        if (command.previousState !== "queued") {
          links.get(command.serverId)?.sendCancel(command.id, "the command's deadline passed");
        }
        ended(command.id, "timed_out");
      }
      if (expired.length > 0) logger.info({ commands: expired.length }, "commands timed out");
    },
    async close() {
      if (sweepTimer) clearTimeout(sweepTimer);
      sweepTimer = undefined;
      await nudges?.close();
      await journal.close();
    },
  };

  const every = options.sweepEveryMs ?? 1_000;
  const arm = () => {
    sweepTimer = setTimeout(tick, every);
    sweepTimer.unref();
  };
  const tick = () => {
    runner
      .sweep()
      .catch((error: unknown) => logger.warn({ err: error }, "command sweep failed"))
      .finally(() => {
        if (sweepTimer) arm();
      });
  };
  if (every > 0) arm();
  return runner;
}
