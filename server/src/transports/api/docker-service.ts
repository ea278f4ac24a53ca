import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  DockerContainerCreateResultSchema,
  DockerContainerCreateSchema,
  DockerContainerExecResultSchema,
  DockerContainerExecSchema,
  DockerContainerInspectResultSchema,
  DockerContainerInspectSchema,
  DockerContainerListResultSchema,
  DockerContainerListSchema,
  DockerContainerLogsResultSchema,
  DockerContainerLogsSchema,
  DockerContainerRemoveResultSchema,
  DockerContainerRemoveSchema,
  DockerContainerRestartSchema,
  DockerContainerStartSchema,
  DockerContainerStateSchema,
  DockerContainerStatsResultSchema,
  DockerContainerStatsSchema,
  DockerContainerStopSchema,
  DockerImageInspectResultSchema,
  DockerImageInspectSchema,
  DockerImageListResultSchema,
  DockerImageListSchema,
  DockerImagePullResultSchema,
  DockerImagePullSchema,
  DockerPruneResultSchema,
  DockerPruneSchema,
} from "@ocore/proto/gen/ocore/agent/v1/docker_commands_pb.js";
import type { DockerService } from "@ocore/proto/gen/ocore/api/v1/docker_service_pb.js";
import { commandActorOf } from "../../domain/commands/command-runner.js";
import {
  DOCKER_TIMEOUTS,
  type DockerCommand,
  type DockerCommandRunner,
  type DockerStreamEvent,
  runDockerCommand,
  streamDockerCommand,
} from "../../domain/docker/docker-commands.js";
import type { Db } from "../../platform/db/database.js";
import { AppError } from "../../platform/errors/app-error.js";
import { auditContextOf, principalOf } from "./request-context.js";

const MAX_EXEC_SECONDS = 3600;

/** ocore.api.v1.DockerService: each RPC is one command on the named server's agent. */
export function createDockerService({
  db,
  commands,
  now = () => new Date(),
}: {
  db: Db;
  commands: DockerCommandRunner;
  now?: () => Date;
}): ServiceImpl<typeof DockerService> {
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
  return {
    async listContainers(request, context) {
      const spec = command(
        context,
        "read",
        request.serverId,
        DockerContainerListSchema,
        request.options ?? {},
        DockerContainerListResultSchema,
        DOCKER_TIMEOUTS.read,
      );
      return { containers: (await run(context, spec)).result.containers };
    },
    async inspectContainer(request, context) {
      const spec = command(
        context,
        "read",
        request.serverId,
        DockerContainerInspectSchema,
        { container: request.container },
        DockerContainerInspectResultSchema,
        DOCKER_TIMEOUTS.read,
      );
      return { container: (await run(context, spec)).result };
    },
    async getContainerStats(request, context) {
      const spec = command(
        context,
        "read",
        request.serverId,
        DockerContainerStatsSchema,
        { container: request.container },
        DockerContainerStatsResultSchema,
        DOCKER_TIMEOUTS.read,
      );
      return { stats: (await run(context, spec)).result };
    },
    async *streamContainerLogs(request, context) {
      yield* stream(context, () => {
        const options = request.options;
        if (!options) throw AppError.invalid("options", "is required: name the container whose log to read");
        const timeout = options.follow ? DOCKER_TIMEOUTS.follow : DOCKER_TIMEOUTS.logs;
        return command(
          context,
          "read",
          request.serverId,
          DockerContainerLogsSchema,
          options,
          DockerContainerLogsResultSchema,
          timeout,
        );
      });
    },
    async listImages(request, context) {
      const spec = command(
        context,
        "read",
        request.serverId,
        DockerImageListSchema,
        request.options ?? {},
        DockerImageListResultSchema,
        DOCKER_TIMEOUTS.read,
      );
      return { images: (await run(context, spec)).result.images };
    },
    async inspectImage(request, context) {
      const spec = command(
        context,
        "read",
        request.serverId,
        DockerImageInspectSchema,
        { image: request.image },
        DockerImageInspectResultSchema,
        DOCKER_TIMEOUTS.read,
      );
      return { image: (await run(context, spec)).result };
    },
    async createContainer(request, context) {
      if (!request.spec) throw AppError.invalid("spec", "is required: give the container's name and image");
      const spec = command(
        context,
        "change",
        request.serverId,
        DockerContainerCreateSchema,
        request.spec,
        DockerContainerCreateResultSchema,
        DOCKER_TIMEOUTS.change,
      );
      const { result } = await run(context, spec);
      return { id: result.id };
    },
    async startContainer(request, context) {
      const spec = command(
        context,
        "change",
        request.serverId,
        DockerContainerStartSchema,
        { container: request.container },
        DockerContainerStateSchema,
        DOCKER_TIMEOUTS.change,
      );
      const { result } = await run(context, spec);
      return { container: result };
    },
    async stopContainer(request, context) {
      const timeout = DOCKER_TIMEOUTS.change + request.timeoutSeconds * 1000;
      const spec = command(
        context,
        "change",
        request.serverId,
        DockerContainerStopSchema,
        { container: request.container, timeoutSeconds: request.timeoutSeconds },
        DockerContainerStateSchema,
        timeout,
      );
      const { result } = await run(context, spec);
      return { container: result };
    },
    async restartContainer(request, context) {
      const timeout = DOCKER_TIMEOUTS.change + request.timeoutSeconds * 1000;
      const spec = command(
        context,
        "change",
        request.serverId,
        DockerContainerRestartSchema,
        { container: request.container, timeoutSeconds: request.timeoutSeconds },
        DockerContainerStateSchema,
        timeout,
      );
      const { result } = await run(context, spec);
      return { container: result };
    },
    async removeContainer(request, context) {
      const args = {
        container: request.container,
        force: request.force,
        removeVolumes: request.removeVolumes,
      };
      const spec = command(
        context,
        "change",
        request.serverId,
        DockerContainerRemoveSchema,
        args,
        DockerContainerRemoveResultSchema,
        DOCKER_TIMEOUTS.change,
      );
      const { result } = await run(context, spec);
      return { id: result.id };
    },
    async execInContainer(request, context) {
      if (!request.spec)
        throw AppError.invalid("spec", "is required: give the container and the command to run");
      if (request.timeoutSeconds > MAX_EXEC_SECONDS) {
        throw AppError.invalid(
          "timeoutSeconds",
          `is at most ${MAX_EXEC_SECONDS}; run longer jobs as a service in the container`,
        );
      }
      const timeout = request.timeoutSeconds ? request.timeoutSeconds * 1000 : DOCKER_TIMEOUTS.exec;
      const spec = command(
        context,
        "change",
        request.serverId,
        DockerContainerExecSchema,
        request.spec,
        DockerContainerExecResultSchema,
        timeout,
      );
      return await run(context, spec);
    },
    async *pullImage(request, context) {
      yield* stream(context, () => {
        if (!request.spec) throw AppError.invalid("spec", "is required: give the image reference to pull");
        return command(
          context,
          "change",
          request.serverId,
          DockerImagePullSchema,
          request.spec,
          DockerImagePullResultSchema,
          DOCKER_TIMEOUTS.pull,
        );
      });
    },
    async pruneDocker(request, context) {
      if (!request.spec) throw AppError.invalid("spec", "is required: choose what to prune");
      const spec = command(
        context,
        "change",
        request.serverId,
        DockerPruneSchema,
        request.spec,
        DockerPruneResultSchema,
        DOCKER_TIMEOUTS.change,
      );
      const { result } = await run(context, spec);
      return { result };
    },
  };
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
