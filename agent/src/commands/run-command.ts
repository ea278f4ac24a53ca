import { create, fromBinary } from "@bufbuild/protobuf";
import { anyPack, timestampDate } from "@bufbuild/protobuf/wkt";
import {
  type Command,
  CommandOutcome,
  OutputStream,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import type { Logger } from "../logging/logger.js";
import { type CommandReports, Stop } from "./command-ends.js";
import {
  type CommandContext,
  CommandError,
  type CommandHandler,
  type OutputStreamName,
} from "./command-handler.js";
import type { CommandOutbox } from "./command-outbox.js";
import type { HandlerLookup } from "./handler-lookup.js";
import type { RecentCommands } from "./recent-commands.js";

/** Output chunks are at most this big (the server refuses larger ones). */
export const MAX_CHUNK_BYTES = 64 * 1024;

const streams: Record<OutputStreamName, OutputStream> = {
  stdout: OutputStream.STDOUT,
  stderr: OutputStream.STDERR,
  progress: OutputStream.PROGRESS,
};

export interface RunCommandDeps {
  readonly findHandler: HandlerLookup;
  readonly reports: CommandReports;
  readonly recent: RecentCommands;
  readonly outbox: CommandOutbox;
  readonly logger: Logger;
  readonly now: () => Date;
}

const typeNameOf = (command: Command) =>
  command.spec ? command.spec.typeUrl.slice(command.spec.typeUrl.lastIndexOf("/") + 1) : "";

/**
 * Runs one new command to its end: finds its handler, refuses it when it arrived after its
 * deadline or does not decode, enforces the deadline through `controller`, numbers output chunks
 * from 1, and reports started and finished. Every path ends in exactly one `finish`.
 */
export async function runCommand(
  deps: RunCommandDeps,
  command: Command,
  controller: AbortController,
): Promise<void> {
  const { reports, logger } = deps;
  const { commandId } = command;
  const typeName = typeNameOf(command);
  let handler: CommandHandler | undefined;
  try {
    handler = await deps.findHandler(typeName);
  } catch (error) {
    logger.error({ err: error, commandId, kind: typeName }, "could not load the command handlers");
    await reports.finish(commandId, {
      outcome: CommandOutcome.FAILED,
      errorCode: "agent_error",
      errorMessage: `the agent could not load its command handlers (${(error as Error)?.message ?? String(error)}); the agent's log has the details`,
    });
    return;
  }
  if (!handler || !command.spec) {
    await reports.finish(commandId, {
      outcome: CommandOutcome.FAILED,
      errorCode: "unknown_command",
      errorMessage: `this agent does not know the command ${typeName || "(no spec)"}; upgrade the agent to the server's version`,
    });
    return;
  }
  const deadline = command.deadline ? timestampDate(command.deadline).getTime() : 0;
  const left = deadline - deps.now().getTime();
  if (left <= 0) {
    await reports.finish(commandId, {
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
    await reports.finish(commandId, {
      outcome: CommandOutcome.FAILED,
      errorCode: "invalid_spec",
      errorMessage: `the command's arguments do not decode as ${typeName} (${(error as Error).message}); the server and agent versions may not match`,
    });
    return;
  }
  await deps.recent.markRunning(commandId);
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
        await deps.outbox.send(
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
    await reports.started(commandId);
    const result = await handler.run(args, context);
    await reports.finish(commandId, {
      outcome: CommandOutcome.SUCCEEDED,
      result: anyPack(handler.output, create(handler.output, result)),
      outputChunks: BigInt(sequence),
    });
  } catch (error) {
    await reports.finish(commandId, {
      ...failureEnd(error, controller.signal, typeName, logger, commandId),
      outputChunks: BigInt(sequence),
    });
  } finally {
    clearTimeout(timer);
  }
}

/** The end of a handler that threw: stopped (deadline or cancel), a command error, or a bug. */
function failureEnd(
  error: unknown,
  signal: AbortSignal,
  typeName: string,
  logger: Logger,
  commandId: string,
) {
  const stop = signal.reason instanceof Stop ? signal.reason : undefined;
  if (stop) return { outcome: stop.outcome, errorCode: stop.code, errorMessage: stop.message };
  if (error instanceof CommandError) {
    return {
      outcome: CommandOutcome.FAILED,
      exitCode: error.exitCode,
      errorCode: error.code,
      errorMessage: error.message,
    };
  }
  logger.error({ err: error, commandId, kind: typeName }, "command failed unexpectedly");
  return {
    outcome: CommandOutcome.FAILED,
    errorCode: "agent_error",
    errorMessage: `the agent failed while running ${typeName}: ${(error as Error)?.message ?? String(error)}; the agent's log has the details`,
  };
}
