import type { ServiceImpl } from "@connectrpc/connect";
import {
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
import { DOCKER_TIMEOUTS } from "../../domain/docker/docker-commands.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { DockerCalls } from "./docker-calls.js";

/** DockerService's image RPCs (list, inspect, pull) and prune. */
export function createImageHandlers(
  calls: DockerCalls,
): Pick<ServiceImpl<typeof DockerService>, "listImages" | "inspectImage" | "pullImage" | "pruneDocker"> {
  const { command, run, stream } = calls;
  return {
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
