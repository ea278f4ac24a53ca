import type { CommandHandler } from "../commands/command-handler.js";
import { containerHandlers } from "./container-handlers.js";
import { containerIoHandlers } from "./container-io-handlers.js";
import { createDockerDeps, type DockerDeps } from "./docker-deps.js";
import { imageHandlers } from "./image-handlers.js";
import { maintenanceHandlers } from "./maintenance-handlers.js";

/** The agent's default Docker socket (OCORE_AGENT_DOCKER_SOCKET overrides it). */
export const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";

/**
 * Every Docker operation the agent runs (ocore.agent.v1.Docker* specs): containers (list,
 * inspect, create, start, stop, restart, remove, logs, exec, stats), images (list, inspect,
 * pull) and prune. One Engine client is shared; nothing connects until a command runs.
 */
export function createDockerHandlers(options: { socketPath?: string } | DockerDeps = {}): CommandHandler[] {
  const deps = "docker" in options ? options : createDockerDeps(options.socketPath ?? DEFAULT_DOCKER_SOCKET);
  return [
    ...containerHandlers(deps),
    ...containerIoHandlers(deps),
    ...imageHandlers(deps),
    ...maintenanceHandlers(deps),
  ];
}
