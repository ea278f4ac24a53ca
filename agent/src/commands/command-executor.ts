import { fromBinary } from "@bufbuild/protobuf";
import {
  type Command,
  CommandFinishedSchema,
  CommandOutcome,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import type { Logger } from "../logging/logger.js";
import { type CommandReports, createCommandReports, Stop } from "./command-ends.js";
import type { CommandHandler, CommandHandlerLoader } from "./command-handler.js";
import type { CommandOutbox } from "./command-outbox.js";
import { createHandlerLookup } from "./handler-lookup.js";
import type { RecentCommands } from "./recent-commands.js";
import { runCommand } from "./run-command.js";

export { MAX_CHUNK_BYTES } from "./run-command.js";

export interface CommandExecutor {
  /** A Command from the server (new or redelivered). */
  receive(command: Command): void;
  /** A CancelCommand from the server. */
  cancel(commandId: string, reason: string): void;
  /** Commands running now. */
  readonly running: number;
  /** Stops every running command (as cancelled) and waits until their ends are recorded. */
  stop(): Promise<void>;
}

export interface CommandExecutorOptions {
  readonly handlers: readonly CommandHandler[];
  /** More handlers, loaded once when a command's type is not among `handlers` (the registry's). */
  readonly loaders?: readonly CommandHandlerLoader[];
  readonly recent: RecentCommands;
  readonly outbox: CommandOutbox;
  readonly logger: Logger;
  readonly now?: () => Date;
}

interface Running {
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

/**
 * Runs the server's commands (each by `runCommand`), each id at most once: ids are remembered
 * across restarts, so a redelivered id is never started again — a running one is answered with
 * started, a finished one with its stored end, one that was running when the agent restarted with
 * `agent_restarted`. Cancellation and stopping abort the command's signal with the reason.
 */
export function createCommandExecutor(options: CommandExecutorOptions): CommandExecutor {
  const { recent, outbox, logger } = options;
  const now = options.now ?? (() => new Date());
  const reports = createCommandReports(recent, outbox, logger, now);
  const deps = {
    findHandler: createHandlerLookup(options.handlers, options.loaders),
    reports,
    recent,
    outbox,
    logger,
    now,
  };
  const running = new Map<string, Running>();

  return {
    get running() {
      return running.size;
    },
    receive(command) {
      if (answerRedelivery(command, running, recent, reports)) return;
      const controller = new AbortController();
      const done = runCommand(deps, command, controller)
        .catch((error: unknown) =>
          logger.error({ err: error, commandId: command.commandId }, "could not run a command"),
        )
        .finally(() => running.delete(command.commandId));
      running.set(command.commandId, { controller, done });
    },
    cancel(commandId, reason) {
      running
        .get(commandId)
        ?.controller.abort(
          new Stop(CommandOutcome.CANCELLED, "cancelled", `cancelled: ${reason || "by the server"}`),
        );
    },
    async stop() {
      for (const entry of running.values()) {
        entry.controller.abort(
          new Stop(CommandOutcome.CANCELLED, "agent_stopping", "the agent was stopped while the command ran"),
        );
      }
      await Promise.all([...running.values()].map((entry) => entry.done));
    },
  };
}

/** Answers a command id this agent has seen before; false for a new one. */
function answerRedelivery(
  command: Command,
  running: ReadonlyMap<string, Running>,
  recent: RecentCommands,
  reports: CommandReports,
): boolean {
  const { commandId } = command;
  if (running.has(commandId)) {
    void reports.started(commandId);
    return true;
  }
  const known = recent.get(commandId);
  if (known?.state === "finished" && known.finished) {
    void reports.resend(commandId, fromBinary(CommandFinishedSchema, Buffer.from(known.finished, "base64")));
    return true;
  }
  if (known?.state === "running") {
    // Started before the agent restarted: it must not run twice, and nobody knows how far it got.
    void reports.finish(commandId, {
      outcome: CommandOutcome.FAILED,
      errorCode: "agent_restarted",
      errorMessage:
        "the agent restarted while the command ran, so it was not finished; check its effect on the host, then run it again if needed",
    });
    return true;
  }
  return false;
}
