import type { AgentConfig } from "../config/config.js";
import type { BackupTransfer } from "../instances/backup-transfer.js";
import { CommandError, type CommandHandler, type CommandHandlerLoader } from "./command-handler.js";

export interface CommandHandlerDeps {
  /** The agent's settings the upgrade command needs (its state directory and server). */
  readonly config: Pick<AgentConfig, "server" | "stateDir">;
  /** The Docker Engine socket (OCORE_AGENT_DOCKER_SOCKET); undefined when Docker is switched off. */
  readonly dockerSocket: string | undefined;
  /** Makes the client that moves backup archives to and from the server (on the first instance command). */
  readonly transfer: () => Promise<BackupTransfer>;
  readonly procRoot?: string;
}

/**
 * Every command kind the agent runs in production, keyed by the spec's protobuf type name
 * (`handler.input.typeName`): self-update, template scripts, Docker operations and Odoo instances. The executor
 * refuses a spec whose type is not listed (`unknown_command`). With Docker switched off, the
 * Docker and instance commands stay known but fail saying so.
 *
 * The handlers are loaded on the first command, not at start: their modules and libraries
 * (dockerode with protobufjs and tar, the instance code) would otherwise take a few MB of an
 * idle agent's memory (bench/README.md, "Real agent footprint"). The imports below are dynamic
 * for that reason; esbuild keeps them in the one bundle but evaluates them only when called.
 */
export function createCommandHandlerLoaders(deps: CommandHandlerDeps): CommandHandlerLoader[] {
  return [
    async () => (await import("../self-update/handlers.js")).createSelfUpdateHandlers(deps.config),
    async () => [(await import("../scripts/script-handler.js")).createScriptHandler()],
    async () => {
      const [{ createDockerDeps }, { createDockerHandlers }, { createInstanceHandlers }, transfer] =
        await Promise.all([
          import("../docker/docker-deps.js"),
          import("../docker/docker-handlers.js"),
          import("../instances/instance-handlers.js"),
          deps.transfer(),
        ]);
      // One Engine client for every Docker-driven command; it connects only when a command runs.
      const docker = createDockerDeps(deps.dockerSocket ?? "/var/run/docker.sock");
      const dockerDriven = [
        ...createDockerHandlers(docker),
        ...createInstanceHandlers({ ...docker, transfer, procRoot: deps.procRoot }),
      ];
      return deps.dockerSocket === undefined ? dockerDriven.map(switchedOff) : dockerDriven;
    },
  ];
}

function switchedOff(handler: CommandHandler): CommandHandler {
  return {
    input: handler.input,
    output: handler.output,
    run: async () => {
      throw new CommandError(
        "docker_disabled",
        "Docker is switched off on this agent (OCORE_AGENT_DOCKER_SOCKET=off): set it to the Engine's socket and restart the agent",
      );
    },
  };
}
