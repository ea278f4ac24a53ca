import { create, toBinary } from "@bufbuild/protobuf";
import { type Any, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type CommandFinished,
  CommandFinishedSchema,
  type CommandOutcome,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import type { Logger } from "../logging/logger.js";
import type { CommandOutbox } from "./command-outbox.js";
import type { RecentCommands } from "./recent-commands.js";

/** How a command ended, before its finished_at is stamped. */
export interface End {
  readonly outcome: CommandOutcome;
  readonly exitCode?: number;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly result?: Any;
  readonly outputChunks?: bigint;
}

/** Why a command's signal aborted: the reason passed to `AbortController.abort`. */
export class Stop extends Error {
  constructor(
    readonly outcome: CommandOutcome.CANCELLED | CommandOutcome.TIMED_OUT,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What a command reports to the server about its life: started, finished, or a stored end again. */
export interface CommandReports {
  started(commandId: string): Promise<void>;
  /** Records the end (so a redelivery gets the same answer), then reports it. */
  finish(commandId: string, end: End): Promise<void>;
  /** Reports an end recorded earlier (a redelivered, finished command). */
  resend(commandId: string, finished: CommandFinished): Promise<void>;
}

export function createCommandReports(
  recent: RecentCommands,
  outbox: CommandOutbox,
  logger: Logger,
  now: () => Date,
): CommandReports {
  return {
    started: (commandId) =>
      outbox.send({ commandId, event: { case: "started", value: { startedAt: timestampFromDate(now()) } } }),
    async finish(commandId, end) {
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
    },
    resend: (commandId, finished) => outbox.send({ commandId, event: { case: "finished", value: finished } }),
  };
}
