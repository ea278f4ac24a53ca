import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type CommandService as CommandServiceDesc,
  CommandState,
  type OutputStream,
} from "@ocore/proto/gen/ocore/api/v1/command_service_pb.js";
import { bufferedSubscription } from "../../domain/commands/command-feed.js";
import { type OutputChunk, readOutput } from "../../domain/commands/command-output.js";
import { type CommandRow, getCommand, isFinal, listCommands } from "../../domain/commands/command-records.js";
import { commandActorOf } from "../../domain/commands/command-runner.js";
import type { CommandService } from "../../domain/commands/command-service.js";
import type { Db } from "../../platform/db/database.js";
import { AppError } from "../../platform/errors/app-error.js";
import { auditContextOf, principalOf } from "./request-context.js";

const states: Record<string, CommandState> = {
  queued: CommandState.QUEUED,
  sent: CommandState.SENT,
  running: CommandState.RUNNING,
  succeeded: CommandState.SUCCEEDED,
  failed: CommandState.FAILED,
  timed_out: CommandState.TIMED_OUT,
  cancelled: CommandState.CANCELLED,
};

const chunkMessage = (chunk: OutputChunk) => ({
  sequence: BigInt(chunk.sequence),
  stream: chunk.stream as OutputStream,
  data: chunk.data,
});

const at = (date: Date | null) => (date ? timestampFromDate(date) : undefined);

function commandMessage(row: CommandRow) {
  return {
    id: row.id,
    serverId: row.serverId,
    kind: row.specType,
    state: states[row.state] ?? CommandState.UNSPECIFIED,
    deadline: timestampFromDate(row.deadline),
    actorKind: row.actorKind,
    actorId: row.actorId ?? "",
    createdAt: timestampFromDate(row.createdAt),
    sentAt: at(row.sentAt),
    startedAt: at(row.startedAt),
    finishedAt: at(row.finishedAt),
    exitCode: row.exitCode,
    errorCode: row.errorCode ?? "",
    errorMessage: row.errorMessage ?? "",
    outputChunks: BigInt(row.outputChunks),
    outputBytes: BigInt(row.outputBytes),
  };
}

/** ocore.api.v1.CommandService: reading and stopping commands; RBAC scopes each to its server. */
export function createCommandApi({
  db,
  commands,
}: {
  db: Db;
  commands: CommandService;
}): ServiceImpl<typeof CommandServiceDesc> {
  return {
    async getCommand(request) {
      return { command: commandMessage(await getCommand(db, request.id)) };
    },
    async listCommands(request) {
      const page = await listCommands(db, request);
      return { commands: page.rows.map(commandMessage), nextPageToken: page.nextPageToken };
    },
    async cancelCommand(request, context) {
      const audit = auditContextOf(context, principalOf(context));
      await commands.cancel(AppError.requireId(request.id), commandActorOf(audit), request.reason, audit);
      return { command: commandMessage(await getCommand(db, request.id)) };
    },
    async *watchCommand(request, context) {
      const id = AppError.requireId(request.id);
      // Subscribe before reading the archive, so nothing stored in between is missed.
      const live = bufferedSubscription(commands.feed, id);
      try {
        const row = await getCommand(db, id);
        yield { event: { case: "command", value: commandMessage(row) } };
        let last = 0;
        for await (const chunk of readOutput(db, id, { signal: context.signal })) {
          last = chunk.sequence;
          yield { event: { case: "output", value: chunkMessage(chunk) } };
        }
        if (isFinal(row.state)) return;
        for await (const event of live.events) {
          if (event.kind === "output") {
            if (event.sequence <= last) continue;
            last = event.sequence;
            yield { event: { case: "output", value: chunkMessage(event) } };
          } else if (event.kind === "overflow") {
            throw new AppError(
              "resource_exhausted",
              `the watcher fell behind the command's output after chunk ${last}; watch again (the archive keeps all of it)`,
            );
          } else if (event.kind === "started") {
            yield { event: { case: "command", value: commandMessage(await getCommand(db, id)) } };
          } else {
            const current = await getCommand(db, id);
            // A watcher that caught up late: output stored before the end it has not seen yet.
            for await (const chunk of readOutput(db, id, { after: last, signal: context.signal })) {
              last = chunk.sequence;
              yield { event: { case: "output", value: chunkMessage(chunk) } };
            }
            yield { event: { case: "command", value: commandMessage(current) } };
            return;
          }
        }
      } finally {
        live.close();
      }
    },
  };
}
