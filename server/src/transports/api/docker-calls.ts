import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { commandActorOf } from "../../domain/commands/command-runner.js";
import {
  type DockerCommand,
  type DockerCommandRunner,
  type DockerStreamEvent,
  runDockerCommand,
  streamDockerCommand,
} from "../../domain/docker/docker-commands.js";
import type { Db } from "../../platform/db/database.js";
import { auditContextOf, principalOf } from "./request-context.js";

/** The three steps every DockerService RPC is made of: a command spec, then a run or a stream. */
export type DockerCalls = ReturnType<typeof createDockerCalls>;

/** Each DockerService RPC is one command on the named server's agent. */
export function createDockerCalls({
  db,
  commands,
  now = () => new Date(),
}: {
  db: Db;
  commands: DockerCommandRunner;
  now?: () => Date;
}) {
  /** `access` "read": nothing changes on the host, so the command is not audited (see DockerCommand.audit). */
  function command<I extends DescMessage, O extends DescMessage>(
    context: HandlerContext,
    access: "read" | "change",
    serverId: string,
    input: I,
    args: MessageInitShape<I>,
    output: O,
    timeoutMs: number,
  ): DockerCommand<I, O> {
    const audit = auditContextOf(context, principalOf(context));
    return {
      serverId,
      input,
      args,
      output,
      timeoutMs,
      actor: commandActorOf(audit),
      audit: access === "read" ? null : audit,
    };
  }
  const run = <I extends DescMessage, O extends DescMessage>(
    context: HandlerContext,
    spec: DockerCommand<I, O>,
  ) => runDockerCommand(commands, spec, { now: now(), signal: context.signal });
  /** A streaming operation (the interceptors check the target server and audit a failure). */
  async function* stream<I extends DescMessage, O extends DescMessage>(
    context: HandlerContext,
    build: () => DockerCommand<I, O>,
  ) {
    for await (const event of streamDockerCommand(db, commands, build(), {
      now: now(),
      signal: context.signal,
    })) {
      yield { event: streamEvent(event) };
    }
  }
  return { command, run, stream };
}

function streamEvent<O extends DescMessage>(event: DockerStreamEvent<O>) {
  switch (event.kind) {
    case "submitted":
      return { case: "commandId" as const, value: event.commandId };
    case "output":
      return {
        case: "output" as const,
        value: { sequence: BigInt(event.chunk.sequence), stream: event.chunk.stream, data: event.chunk.data },
      };
    case "result":
      return { case: "result" as const, value: event.result };
  }
}
