import type { CommandHandler } from "../commands/command-handler.js";
import { createAgentUninstallHandler } from "./uninstall-handler.js";
import { createAgentUpgradeHandler } from "./upgrade-handler.js";

/** The agent's own commands (upgrade, uninstall), for the command registry. */
export function createSelfUpdateHandlers(): CommandHandler[] {
  return [createAgentUpgradeHandler(), createAgentUninstallHandler()];
}
