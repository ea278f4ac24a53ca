import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { AuditContext } from "../audit/audit-context.js";

/** Who asked for a command (recorded with it and in the audit log). */
export interface CommandActor {
  readonly kind: "user" | "api_token" | "system";
  readonly id: string | null;
}

/** The server itself (provisioning, instance housekeeping): no person or token asked. */
export const systemActor: CommandActor = { kind: "system", id: null };

/** Who a request acts as (its audit context), as the actor of the commands it submits. */
export function commandActorOf(context: AuditContext): CommandActor {
  if (context.actor.type === "user") return { kind: "user", id: context.actor.id };
  if (context.actor.type === "token") return { kind: "api_token", id: context.actor.id };
  return systemActor;
}

export interface SubmitCommand<I extends DescMessage> {
  readonly serverId: string;
  /** The typed spec: its message type says which command this is. */
  readonly input: I;
  readonly args: MessageInitShape<I>;
  /** When the command must have finished; an offline agent's command waits until then. */
  readonly deadline: Date;
  readonly actor: CommandActor;
  /** false: a read (list, inspect, logs, stats) that changes nothing, so no `command.submit` audit entry. */
  readonly audit?: false;
}

export type CommandState = "queued" | "sent" | "running" | "succeeded" | "failed" | "timed_out" | "cancelled";

export interface CommandOutcome<O extends DescMessage> {
  readonly commandId: string;
  readonly state: Exclude<CommandState, "queued" | "sent" | "running">;
  /** The typed result when the command succeeded and returned one. */
  readonly result: MessageShape<O> | undefined;
  readonly exitCode: number;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
}

/**
 * The one way the rest of the server runs something on a host. Commands are persisted
 * (queued → sent → running → succeeded | failed | timed_out | cancelled), delivered over the
 * agent's stream (after a reconnect for an offline agent, until their deadline), run at most once,
 * and their output is archived.
 */
export interface CommandRunner {
  /** Persists the command and sends it when the agent's stream is up; returns at once. */
  submit<I extends DescMessage>(command: SubmitCommand<I>): Promise<{ readonly commandId: string }>;
  /** Resolves when the command reached a final state (never rejects for a failed command). */
  wait<O extends DescMessage>(commandId: string, output: O, signal?: AbortSignal): Promise<CommandOutcome<O>>;
  /** submit + wait; a command that did not succeed rejects with an AppError saying why. */
  run<I extends DescMessage, O extends DescMessage>(
    command: SubmitCommand<I> & { readonly output: O },
    signal?: AbortSignal,
  ): Promise<MessageShape<O>>;
  /** Asks the agent to stop the command; a queued command is cancelled at once. */
  cancel(commandId: string, actor: CommandActor, reason: string): Promise<void>;
}
