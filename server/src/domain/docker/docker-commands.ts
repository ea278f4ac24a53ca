import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import type { Db } from "../../platform/db/database.js";
import { AppError, type AppErrorCode } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { bufferedSubscription, type CommandFeed } from "../commands/command-feed.js";
import { type OutputChunk, readOutput } from "../commands/command-output.js";
import { getCommand, isFinal } from "../commands/command-records.js";
import type {
  CommandActor,
  CommandOutcome,
  CommandRunner,
  SubmitCommand,
} from "../commands/command-runner.js";
import type { CommandService } from "../commands/command-service.js";

/**
 * Docker operations as commands: submit one typed spec to a server's agent, wait for (or stream)
 * its outcome, and turn the agent's error codes into API errors. The transport (api/docker-service)
 * only maps requests and responses.
 */

/** What the Docker operations need from the command runner: the runner and its live feed. */
export type DockerCommandRunner = CommandRunner & Pick<CommandService, "submit" | "cancel" | "feed">;

export interface DockerCommand<I extends DescMessage, O extends DescMessage> {
  readonly serverId: string;
  readonly input: I;
  readonly args: MessageInitShape<I>;
  readonly output: O;
  /** How long the agent has to finish (an offline agent's command waits this long). */
  readonly timeoutMs: number;
  readonly actor: CommandActor;
  /**
   * Who asked, for the audit log; null for a read (list, inspect, logs, stats): it changes nothing
   * on the host, so neither its submission nor its cancellation is audited.
   */
  readonly audit: AuditContext | null;
}

/** Deadlines by kind of operation. */
export const DOCKER_TIMEOUTS = {
  read: 30_000,
  change: 120_000,
  exec: 300_000,
  pull: 30 * 60_000,
  logs: 60_000,
  follow: 24 * 3_600_000,
} as const;

const AGENT_ERRORS: Readonly<Record<string, AppErrorCode>> = {
  invalid_argument: "invalid_argument",
  not_found: "not_found",
  conflict: "failed_precondition",
  docker_unavailable: "unavailable",
  registry_unreachable: "unavailable",
};

/** The API error for a command that did not succeed, with the agent's own explanation. */
export function outcomeError(kind: string, outcome: CommandOutcome<DescMessage>): AppError {
  const reference = `(command ${outcome.commandId})`;
  switch (outcome.state) {
    case "timed_out":
      return new AppError(
        "unavailable",
        `${kind} did not finish before its deadline ${reference}: ${outcome.errorMessage ?? "the agent did not answer"}. ` +
          "Check that the server's agent is online (ListServers) and retry.",
      );
    case "cancelled":
      return new AppError(
        "failed_precondition",
        `${kind} was cancelled ${reference}: ${outcome.errorMessage ?? ""}`,
      );
    default: {
      if (outcome.errorCode === "unknown_command") {
        return new AppError(
          "failed_precondition",
          `The server's agent does not know ${kind} ${reference}; upgrade the agent and retry.`,
        );
      }
      const code = AGENT_ERRORS[outcome.errorCode ?? ""] ?? "failed_precondition";
      return new AppError(code, `${outcome.errorMessage ?? `${kind} failed`} ${reference}`);
    }
  }
}

function submission<I extends DescMessage, O extends DescMessage>(
  command: DockerCommand<I, O>,
  now: Date,
): SubmitCommand<I> {
  return {
    serverId: AppError.requireId(command.serverId, "serverId"),
    input: command.input,
    args: command.args,
    deadline: new Date(now.getTime() + command.timeoutMs),
    actor: command.actor,
    ...(command.audit === null ? { audit: false as const } : {}),
  };
}

/** Runs one operation to its end; resolves with its typed result or rejects with an AppError. */
export async function runDockerCommand<I extends DescMessage, O extends DescMessage>(
  commands: DockerCommandRunner,
  command: DockerCommand<I, O>,
  options: { readonly now?: Date; readonly signal?: AbortSignal } = {},
): Promise<{ readonly commandId: string; readonly result: MessageShape<O> }> {
  const { commandId } = await commands.submit(
    submission(command, options.now ?? new Date()),
    command.audit ?? undefined,
  );
  const outcome = await commands.wait(commandId, command.output, options.signal);
  if (outcome.state !== "succeeded") throw outcomeError(kindOf(command.input), outcome);
  return { commandId, result: outcome.result ?? create(command.output) };
}

export type DockerStreamEvent<O extends DescMessage> =
  | { readonly kind: "submitted"; readonly commandId: string }
  | { readonly kind: "output"; readonly chunk: OutputChunk }
  | { readonly kind: "result"; readonly result: MessageShape<O> };

/**
 * Runs one operation and yields its id, every output chunk in order, then its result. If the
 * caller stops listening first (`signal`), the command is cancelled on the agent: nobody is left
 * to read a followed log or a pull's progress.
 */
export async function* streamDockerCommand<I extends DescMessage, O extends DescMessage>(
  db: Db,
  commands: DockerCommandRunner,
  command: DockerCommand<I, O>,
  options: { readonly now?: Date; readonly signal: AbortSignal },
): AsyncGenerator<DockerStreamEvent<O>> {
  const { commandId } = await commands.submit(
    submission(command, options.now ?? new Date()),
    command.audit ?? undefined,
  );
  let ended = false;
  let cancelling: Promise<void> | undefined;
  const cancel = () => {
    if (ended) return Promise.resolve();
    cancelling ??= commands
      .cancel(commandId, command.actor, "the caller stopped watching", command.audit)
      .catch(() => undefined); // it may have ended meanwhile: nothing left to stop
    return cancelling;
  };
  // On abort at once: a caller that went away may never resume (or return) this generator.
  options.signal.addEventListener("abort", cancel, { once: true });
  try {
    yield { kind: "submitted", commandId };
    for await (const chunk of outputUntilEnd(db, commands.feed, commandId, options.signal)) {
      yield { kind: "output", chunk };
    }
    const outcome = await commands.wait(commandId, command.output, options.signal);
    ended = true;
    if (outcome.state !== "succeeded") throw outcomeError(kindOf(command.input), outcome);
    yield { kind: "result", result: outcome.result ?? create(command.output) };
  } finally {
    options.signal.removeEventListener("abort", cancel);
    await cancel();
  }
}

/**
 * A command's output from the archive, then live, without gaps or repeats, until it ends. The
 * subscription is taken before the archive is read so nothing stored in between is missed.
 */
async function* outputUntilEnd(
  db: Db,
  feed: CommandFeed,
  commandId: string,
  signal: AbortSignal,
): AsyncGenerator<OutputChunk> {
  const live = bufferedSubscription(feed, commandId);
  const stop = () => live.close();
  signal.addEventListener("abort", stop, { once: true });
  try {
    let last = 0;
    for await (const chunk of readOutput(db, commandId, { signal })) {
      last = chunk.sequence;
      yield chunk;
    }
    if (!isFinal((await getCommand(db, commandId)).state)) {
      for await (const event of live.events) {
        if (event.kind === "overflow") {
          throw new AppError(
            "resource_exhausted",
            `the stream fell behind command ${commandId}'s output after chunk ${last}; read the rest with CommandService/WatchCommand`,
          );
        }
        if (event.kind === "output" && event.sequence > last) {
          last = event.sequence;
          yield { sequence: event.sequence, stream: event.stream, data: event.data };
        }
        if (event.kind === "finished") break;
      }
    }
    signal.throwIfAborted();
    // Output stored between the archive read and the end.
    for await (const chunk of readOutput(db, commandId, { after: last, signal })) yield chunk;
  } finally {
    signal.removeEventListener("abort", stop);
    live.close();
  }
}

function kindOf(input: DescMessage): string {
  return input.typeName.split(".").at(-1) ?? input.typeName;
}
