import { randomUUID } from "node:crypto";
import { create, type DescMessage, toBinary } from "@bufbuild/protobuf";
import { AppError } from "../../platform/errors/app-error.js";
import { cancelCommand } from "./cancel-command.js";
import { createCommandDelivery } from "./command-delivery.js";
import { createCommandFeed } from "./command-feed.js";
import { createCommandJournal } from "./command-journal.js";
import { type CommandNudges, createCommandNudges } from "./command-nudges.js";
import {
  auditContextOfActor,
  type CommandRow,
  endedAmong,
  expireOverdueCommands,
  type FinalState,
  insertCommands,
  queuedCommands,
} from "./command-records.js";
import type { SubmitCommand } from "./command-runner.js";
import type { CommandRunnerOptions, CommandService } from "./command-service.js";
import { createCommandWaiters } from "./command-waiters.js";

/**
 * The command runner: persists commands, delivers them over live agent streams (and again after
 * a reconnect, until their deadline), stores their events through a group-commit journal, feeds
 * watchers live, and times out what passed its deadline.
 */
export function createCommandRunner(options: CommandRunnerOptions): CommandService {
  const { db, links, logger } = options;
  const now = options.now ?? (() => new Date());
  const graceMs = options.deadlineGraceMs ?? 10_000;
  const feed = options.feed ?? createCommandFeed();
  const waiters = createCommandWaiters(db, options.pollEveryMs ?? 5_000);
  let sweepTimer: NodeJS.Timeout | undefined;

  const ended = (commandId: string, state: FinalState) => {
    delivery.forget(commandId);
    feed.publish(commandId, { kind: "finished", state });
    waiters.wake(commandId);
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
    wait: (commandId, output, signal) => waiters.wait(commandId, output, signal),
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
      const outcome = await cancelCommand(db, {
        commandId,
        why,
        audit,
        now,
        hasLiveStream: (serverId) => link(serverId) !== undefined,
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
