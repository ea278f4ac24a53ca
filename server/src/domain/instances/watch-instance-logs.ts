import { OutputStream } from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import {
  InstanceLogsEndedSchema,
  InstanceLogsSchema,
} from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import type { Db } from "../../platform/db/database.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { commandActorOf } from "../commands/command-runner.js";
import { type DockerCommandRunner, streamDockerCommand } from "../docker/docker-commands.js";
import { loadInstance } from "./instance-queries.js";

const MAX_TAIL = 10_000;
/** A followed log stops after this long (the caller may watch again). */
const FOLLOW_MS = 3_600_000;
const READ_MS = 60_000;

export interface LogChunk {
  readonly stream: "stdout" | "stderr";
  readonly data: Uint8Array;
}

/**
 * One container's log as the agent streams it (InstanceLogs), chunk by chunk; with follow, until
 * the caller stops watching (the command is then cancelled on the agent) or after an hour.
 */
export async function* watchInstanceLogs(
  db: Db,
  commands: DockerCommandRunner,
  context: AuditContext,
  input: { id: string; container: string; tailLines: number; follow: boolean },
  signal: AbortSignal,
): AsyncGenerator<LogChunk> {
  const role = input.container || "odoo";
  if (!["odoo", "db", "mail"].includes(role)) {
    throw AppError.invalid("container", `"${role}" is not a container of an instance: use odoo, db or mail`);
  }
  if (input.tailLines > MAX_TAIL) throw AppError.invalid("tailLines", `must be at most ${MAX_TAIL}`);
  const instance = await loadInstance(db, input.id);
  const events = streamDockerCommand(
    db,
    commands,
    {
      serverId: instance.serverId,
      input: InstanceLogsSchema,
      args: { instanceId: instance.id, role, tailLines: input.tailLines, follow: input.follow },
      output: InstanceLogsEndedSchema,
      timeoutMs: input.follow ? FOLLOW_MS : READ_MS,
      actor: commandActorOf(context),
      audit: null, // reading a log changes nothing: not audited
    },
    { signal },
  );
  for await (const event of events) {
    if (event.kind !== "output") continue;
    if (event.chunk.stream !== OutputStream.STDOUT && event.chunk.stream !== OutputStream.STDERR) continue;
    yield {
      stream: event.chunk.stream === OutputStream.STDERR ? "stderr" : "stdout",
      data: event.chunk.data,
    };
  }
}
