import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";

/** Where a chunk of output came from (mirrors ocore.agent.v1.OutputStream). */
export type OutputStreamName = "stdout" | "stderr" | "progress";

/** What a running command may use. */
export interface CommandContext {
  readonly commandId: string;
  /** Aborted when the command is cancelled or its deadline passes; handlers must stop promptly. */
  readonly signal: AbortSignal;
  /**
   * Sends a chunk of output (split into ≤64 KiB chunks by the executor). Resolves once the chunk
   * is accepted by the stream's bounded buffer: await it, so a command that makes a lot of output
   * is slowed down instead of growing memory.
   */
  output(stream: OutputStreamName, data: Uint8Array | string): Promise<void>;
}

/**
 * A command failed for a reason the user can act on. `code` is stable snake_case (reported as
 * CommandFinished.error_code); `message` says what went wrong and what to do.
 */
export class CommandError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode = 0,
  ) {
    super(message);
    this.name = "CommandError";
  }
}

/**
 * One kind of command the agent can run: typed input (the packed spec's message) and typed result.
 * Handlers live next to what they drive (docker/, instances/, self-update/) and are listed in one
 * registry; the executor unpacks the spec by `input.typeName` and refuses unknown types.
 */
export interface CommandHandler<I extends DescMessage = DescMessage, O extends DescMessage = DescMessage> {
  readonly input: I;
  readonly output: O;
  run(args: MessageShape<I>, context: CommandContext): Promise<MessageInitShape<O>>;
}

/**
 * Loads a group of handlers when a command arrives that the already loaded handlers do not know.
 * Their modules and libraries stay out of an idle agent's memory until then.
 */
export type CommandHandlerLoader = () => Promise<readonly CommandHandler[]>;

/** Helper that keeps the generic types of a handler literal. */
export function defineHandler<I extends DescMessage, O extends DescMessage>(
  handler: CommandHandler<I, O>,
): CommandHandler<I, O> {
  return handler;
}
