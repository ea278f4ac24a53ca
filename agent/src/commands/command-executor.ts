import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { type Any, anyPack, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type Command,
  type CommandFinished,
  CommandFinishedSchema,
  CommandOutcome,
  OutputStream,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import type { Logger } from "../logging/logger.js";
import {
  type CommandContext,
  CommandError,
  type CommandHandler,
  type CommandHandlerLoader,
  type OutputStreamName,
} from "./command-handler.js";
import type { CommandOutbox } from "./command-outbox.js";
import type { RecentCommands } from "./recent-commands.js";

/** Output chunks are at most this big (the server refuses larger ones). */
export const MAX_CHUNK_BYTES = 64 * 1024;

const streams: Record<OutputStreamName, OutputStream> = {
  stdout: OutputStream.STDOUT,
  stderr: OutputStream.STDERR,
  progress: OutputStream.PROGRESS,
};

/** How a command ended, before the executor stamps finished_at. */
interface End {
  readonly outcome: CommandOutcome;
  readonly exitCode?: number;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly result?: Any;
  readonly outputChunks?: bigint;
}

/** Why a command's signal aborted. */
class Stop extends Error {
  constructor(
    readonly outcome: CommandOutcome.CANCELLED | CommandOutcome.TIMED_OUT,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

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
 * Runs the server's commands: unpacks the spec by its type name, runs each id at most once (ids
 * are remembered across restarts), enforces the deadline and cancellation through the handler's
 * AbortSignal, numbers output chunks from 1, and reports started / output / finished. A
 * redelivered id is never started again: a running one is answered with started, a finished one
 * with its stored end.
 */
export function createCommandExecutor(options: CommandExecutorOptions): CommandExecutor {
  const { recent, outbox, logger } = options;
  const now = options.now ?? (() => new Date());
  const handlers = new Map(options.handlers.map((handler) => [handler.input.typeName, handler]));
  let loaders = options.loaders ?? [];
  let loading: Promise<void> | undefined;

  /** The handler of a spec type, loading the lazy groups the first time one is needed. */
  async function findHandler(typeName: string): Promise<CommandHandler | undefined> {
    if (handlers.has(typeName) || loaders.length === 0) return handlers.get(typeName);
    loading ??= Promise.all(loaders.map((load) => load())).then(
      (groups) => {
        for (const handler of groups.flat()) {
          if (!handlers.has(handler.input.typeName)) handlers.set(handler.input.typeName, handler);
        }
        loaders = [];
      },
      (error: unknown) => {
        loading = undefined; // the next command tries again
        throw error;
      },
    );
    await loading;
    return handlers.get(typeName);
  }
  const running = new Map<string, Running>();

  const started = (commandId: string) =>
    outbox.send({ commandId, event: { case: "started", value: { startedAt: timestampFromDate(now()) } } });

  /** Records the end (so a redelivery gets the same answer), then reports it. */
  async function finish(commandId: string, end: End): Promise<void> {
    const finished = create(CommandFinishedSchema, { ...end, finishedAt: timestampFromDate(now()) });
    try {
      await recent.markFinished(commandId, toBinary(CommandFinishedSchema, finished));
    } catch (error) {
      logger.error(
        { err: error, commandId },
        "could not record a command's end; a redelivery would report it as interrupted",
      );
    }
    await outbox.send({ commandId, event: { case: "finished", value: finished } });
  }

  const resend = (commandId: string, finished: CommandFinished) =>
    outbox.send({ commandId, event: { case: "finished", value: finished } });

  async function execute(command: Command, controller: AbortController): Promise<void> {
    const { commandId } = command;
    const typeName = command.spec
      ? command.spec.typeUrl.slice(command.spec.typeUrl.lastIndexOf("/") + 1)
      : "";
    let handler: CommandHandler | undefined;
    try {
      handler = await findHandler(typeName);
    } catch (error) {
      logger.error({ err: error, commandId, kind: typeName }, "could not load the command handlers");
      await finish(commandId, {
        outcome: CommandOutcome.FAILED,
        errorCode: "agent_error",
        errorMessage: `the agent could not load its command handlers (${(error as Error)?.message ?? String(error)}); the agent's log has the details`,
      });
      return;
    }
    if (!handler || !command.spec) {
      await finish(commandId, {
        outcome: CommandOutcome.FAILED,
        errorCode: "unknown_command",
        errorMessage: `this agent does not know the command ${typeName || "(no spec)"}; upgrade the agent to the server's version`,
      });
      return;
    }
    const deadline = command.deadline ? timestampDate(command.deadline).getTime() : 0;
    const left = deadline - now().getTime();
    if (left <= 0) {
      await finish(commandId, {
        outcome: CommandOutcome.TIMED_OUT,
        errorCode: "deadline_exceeded",
        errorMessage: "the command reached the agent after its deadline and was not started",
      });
      return;
    }
    let args: ReturnType<typeof fromBinary>;
    try {
      args = fromBinary(handler.input, command.spec.value);
    } catch (error) {
      await finish(commandId, {
        outcome: CommandOutcome.FAILED,
        errorCode: "invalid_spec",
        errorMessage: `the command's arguments do not decode as ${typeName} (${(error as Error).message}); the server and agent versions may not match`,
      });
      return;
    }
    await recent.markRunning(commandId);
    const timer = setTimeout(
      () =>
        controller.abort(
          new Stop(
            CommandOutcome.TIMED_OUT,
            "deadline_exceeded",
            "the command did not finish before its deadline and was stopped",
          ),
        ),
      left,
    );
    let sequence = 0;
    const context: CommandContext = {
      commandId,
      signal: controller.signal,
      async output(stream, data) {
        const bytes = typeof data === "string" ? Buffer.from(data) : data;
        for (let offset = 0; offset < bytes.byteLength; offset += MAX_CHUNK_BYTES) {
          const chunk = bytes.subarray(offset, offset + MAX_CHUNK_BYTES);
          sequence += 1;
          await outbox.send(
            {
              commandId,
              event: {
                case: "output",
                value: { sequence: BigInt(sequence), stream: streams[stream], data: chunk },
              },
            },
            controller.signal,
          );
        }
      },
    };
    try {
      await started(commandId);
      const result = await handler.run(args, context);
      await finish(commandId, {
        outcome: CommandOutcome.SUCCEEDED,
        result: anyPack(handler.output, create(handler.output, result)),
        outputChunks: BigInt(sequence),
      });
    } catch (error) {
      const stop = controller.signal.reason instanceof Stop ? controller.signal.reason : undefined;
      if (stop) {
        await finish(commandId, {
          outcome: stop.outcome,
          errorCode: stop.code,
          errorMessage: stop.message,
          outputChunks: BigInt(sequence),
        });
      } else if (error instanceof CommandError) {
        await finish(commandId, {
          outcome: CommandOutcome.FAILED,
          exitCode: error.exitCode,
          errorCode: error.code,
          errorMessage: error.message,
          outputChunks: BigInt(sequence),
        });
      } else {
        logger.error({ err: error, commandId, kind: typeName }, "command failed unexpectedly");
        await finish(commandId, {
          outcome: CommandOutcome.FAILED,
          errorCode: "agent_error",
          errorMessage: `the agent failed while running ${typeName}: ${(error as Error)?.message ?? String(error)}; the agent's log has the details`,
          outputChunks: BigInt(sequence),
        });
      }
    } finally {
      clearTimeout(timer);
    }
  }

  function answerRedelivery(command: Command): boolean {
    const { commandId } = command;
    if (running.has(commandId)) {
      void started(commandId);
      return true;
    }
    const known = recent.get(commandId);
    if (known?.state === "finished" && known.finished) {
      void resend(commandId, fromBinary(CommandFinishedSchema, Buffer.from(known.finished, "base64")));
      return true;
    }
    if (known?.state === "running") {
      // Started before the agent restarted: it must not run twice, and nobody knows how far it got.
      void finish(commandId, {
        outcome: CommandOutcome.FAILED,
        errorCode: "agent_restarted",
        errorMessage:
          "the agent restarted while the command ran, so it was not finished; check its effect on the host, then run it again if needed",
      });
      return true;
    }
    return false;
  }

  return {
    get running() {
      return running.size;
    },
    receive(command) {
      if (answerRedelivery(command)) return;
      const controller = new AbortController();
      const done = execute(command, controller)
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
