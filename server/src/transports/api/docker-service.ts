import type { ServiceImpl } from "@connectrpc/connect";
import type { DockerService } from "@ocore/proto/gen/ocore/api/v1/docker_service_pb.js";
import type { DockerCommandRunner } from "../../domain/docker/docker-commands.js";
import type { Db } from "../../platform/db/database.js";
import { createDockerCalls } from "./docker-calls.js";
import { createContainerHandlers } from "./docker-container-handlers.js";
import { createImageHandlers } from "./docker-image-handlers.js";

/** ocore.api.v1.DockerService: each RPC is one command on the named server's agent. */
export function createDockerService(deps: {
  db: Db;
  commands: DockerCommandRunner;
  now?: () => Date;
}): ServiceImpl<typeof DockerService> {
  const calls = createDockerCalls(deps);
  return { ...createContainerHandlers(calls), ...createImageHandlers(calls) };
}
