import {
  AgentUninstallResultSchema,
  AgentUninstallSchema,
} from "@ocore/proto/gen/ocore/agent/v1/agent_commands_pb.js";
import { type CommandRunner, systemActor } from "../commands/command-runner.js";
import type { AgentUninstaller } from "./job-context.js";

const UNINSTALL_DEADLINE_MS = 60_000;

/** Asks the agent to remove itself with the AgentUninstall command over its stream. */
export function createAgentUninstaller(runner: CommandRunner, now: () => Date): AgentUninstaller {
  return {
    async uninstall(serverId, signal) {
      await runner.run(
        {
          serverId,
          input: AgentUninstallSchema,
          args: {},
          output: AgentUninstallResultSchema,
          deadline: new Date(now().getTime() + UNINSTALL_DEADLINE_MS),
          actor: systemActor,
        },
        signal,
      );
      return "done";
    },
  };
}
