import type { CommandHandler } from "../commands/command-handler.js";
import type { AgentConfig } from "../config/config.js";
import { createAgentUninstallHandler } from "./uninstall-handler.js";
import { createAgentUpgradeHandler } from "./upgrade-handler.js";

/** The agent's own commands (upgrade, uninstall), for the command registry. */
export function createSelfUpdateHandlers(config: Pick<AgentConfig, "server" | "stateDir">): CommandHandler[] {
  return [createAgentUpgradeHandler({ config }), createAgentUninstallHandler()];
}
