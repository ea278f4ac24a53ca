import type { ServiceImpl } from "@connectrpc/connect";
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
} from "@ocore/proto/gen/ocore/agent/v1/docker_commands_pb.js";
import type { DockerService } from "@ocore/proto/gen/ocore/api/v1/docker_service_pb.js";
import { DOCKER_TIMEOUTS } from "../../domain/docker/docker-commands.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { DockerCalls } from "./docker-calls.js";

const MAX_EXEC_SECONDS = 3600;

/** DockerService's container RPCs: list, inspect, stats, logs, create, start, stop, restart, remove, exec. */
export function createContainerHandlers(
  calls: DockerCalls,
): Pick<
  ServiceImpl<typeof DockerService>,
  | "listContainers"
  | "inspectContainer"
  | "getContainerStats"
  | "streamContainerLogs"
  | "createContainer"
  | "startContainer"
  | "stopContainer"
  | "restartContainer"
  | "removeContainer"
  | "execInContainer"
> {
  const { command, run, stream } = calls;
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
  };
}
