import { createDockerDeps } from "../docker/docker-deps.js";
import { createDockerHandlers } from "../docker/docker-handlers.js";
import type { BackupTransfer } from "../instances/backup-transfer.js";
import { createInstanceHandlers } from "../instances/instance-handlers.js";
import { createSelfUpdateHandlers } from "../self-update/handlers.js";
import { CommandError, type CommandHandler } from "./command-handler.js";

export interface CommandHandlerDeps {
  /** The Docker Engine socket (OCORE_AGENT_DOCKER_SOCKET); undefined when Docker is switched off. */
  readonly dockerSocket: string | undefined;
  /** Moves backup archives to and from the server over the agent's mTLS identity. */
  readonly transfer: BackupTransfer;
  readonly procRoot?: string;
}

/**
 * Every command kind the agent runs in production, keyed by the spec's protobuf type name
 * (`handler.input.typeName`): self-update, Docker operations and Odoo instances. The executor
 * refuses a spec whose type is not listed (`unknown_command`). With Docker switched off, the
 * Docker and instance commands stay known but fail saying so.
 */
export function createCommandHandlers(deps: CommandHandlerDeps): CommandHandler[] {
  // One Engine client for every Docker-driven command; it connects only when a command runs.
  const docker = createDockerDeps(deps.dockerSocket ?? "/var/run/docker.sock");
  const dockerDriven = [
    ...createDockerHandlers(docker),
    ...createInstanceHandlers({ ...docker, transfer: deps.transfer, procRoot: deps.procRoot }),
  ];
  return [
    ...createSelfUpdateHandlers(),
    ...(deps.dockerSocket === undefined ? dockerDriven.map(switchedOff) : dockerDriven),
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
