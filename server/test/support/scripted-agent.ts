import { create, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { anyPack, TimestampSchema, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type CommandEvent,
  CommandEventSchema,
  CommandOutcome,
  type CommandSchema,
  OutputStream,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import { typeNameOf } from "../../src/domain/commands/command-delivery.js";
import type { CommandLink, CommandLinks } from "../../src/domain/commands/command-transport.js";

/**
 * For tests of features that run commands: a live agent stream whose agent answers from a script
 * instead of running anything. Events go through the real runner (`sink`), so storage, the feed,
 * waiting and cancelling are all real; only the host side is scripted.
 */

export type ScriptedOutput = readonly [stream: "stdout" | "stderr" | "progress", data: string];

export type ScriptedReply =
  | {
      readonly output?: readonly ScriptedOutput[];
      readonly result: { readonly schema: DescMessage; readonly value: MessageInitShape<DescMessage> };
      readonly exitCode?: number;
    }
  | {
      readonly output?: readonly ScriptedOutput[];
      readonly error: { readonly code: string; readonly message: string };
    }
  /** Sends the output, then runs until the server cancels the command. */
  | { readonly output?: readonly ScriptedOutput[]; readonly untilCancelled: true };

export interface ReceivedCommand {
  readonly commandId: string;
  readonly typeName: string;
  readonly spec: Uint8Array;
  readonly deadline: Date;
}

export interface ScriptedAgent {
  readonly links: CommandLinks;
  readonly received: ReceivedCommand[];
  readonly cancelled: Array<{ commandId: string; reason: string }>;
  /** Chooses the answer to each command (by default: a failure saying there is no script). */
  script: (command: ReceivedCommand) => ScriptedReply;
  /** Settles once every command sent so far has been answered. */
  idle(): Promise<void>;
}

const streams = {
  stdout: OutputStream.STDOUT,
  stderr: OutputStream.STDERR,
  progress: OutputStream.PROGRESS,
} as const;

export function createScriptedAgent(
  serverId: string,
  sink: () => { onEvent(link: CommandLink, event: CommandEvent): Promise<void> },
): ScriptedAgent {
  const pending = new Set<Promise<void>>();
  const cancels = new Map<string, () => void>();
  const emit = (commandId: string, event: MessageInitShape<typeof CommandEventSchema>["event"]) =>
    sink().onEvent(link, create(CommandEventSchema, { commandId, event }));

  async function answer(command: ReceivedCommand): Promise<void> {
    const reply = agent.script(command);
    await emit(command.commandId, { case: "started", value: { startedAt: timestampFromDate(new Date()) } });
    let sequence = 0n;
    for (const [stream, data] of reply.output ?? []) {
      sequence += 1n;
      await emit(command.commandId, {
        case: "output",
        value: { sequence, stream: streams[stream], data: new TextEncoder().encode(data) },
      });
    }
    const finished = { finishedAt: timestampFromDate(new Date()), outputChunks: sequence };
    if ("untilCancelled" in reply) {
      await new Promise<void>((resolve) => cancels.set(command.commandId, resolve));
      await emit(command.commandId, {
        case: "finished",
        value: {
          ...finished,
          outcome: CommandOutcome.CANCELLED,
          errorCode: "cancelled",
          errorMessage: "cancelled",
        },
      });
    } else if ("error" in reply) {
      await emit(command.commandId, {
        case: "finished",
        value: {
          ...finished,
          outcome: CommandOutcome.FAILED,
          errorCode: reply.error.code,
          errorMessage: reply.error.message,
        },
      });
    } else {
      await emit(command.commandId, {
        case: "finished",
        value: {
          ...finished,
          outcome: CommandOutcome.SUCCEEDED,
          exitCode: reply.exitCode ?? 0,
          result: anyPack(reply.result.schema, create(reply.result.schema, reply.result.value)),
        },
      });
    }
  }

  const link: CommandLink = {
    serverId,
    live: true,
    sendCommand(command: MessageInitShape<typeof CommandSchema>) {
      const received: ReceivedCommand = {
        commandId: command.commandId ?? "",
        typeName: typeNameOf(command.spec?.typeUrl ?? ""),
        spec: command.spec?.value ?? new Uint8Array(),
        deadline: command.deadline ? timestampDate(create(TimestampSchema, command.deadline)) : new Date(0),
      };
      agent.received.push(received);
      // Like a real stream: the answer arrives later, never inside the write.
      const run = new Promise<void>((resolve) => setImmediate(resolve)).then(() => answer(received));
      pending.add(run);
      run.finally(() => pending.delete(run)).catch(() => undefined);
    },
    sendCancel(commandId, reason) {
      agent.cancelled.push({ commandId, reason });
      cancels.get(commandId)?.();
      cancels.delete(commandId);
    },
    writable: async () => undefined,
  };

  const agent: ScriptedAgent = {
    links: { get: (id) => (id === serverId ? link : undefined) },
    received: [],
    cancelled: [],
    script: (command) => ({
      error: { code: "no_script", message: `the test scripted no answer to ${command.typeName}` },
    }),
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
  return agent;
}
