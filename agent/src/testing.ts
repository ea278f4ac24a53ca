/**
 * @ocore/agent/testing: the agent's command machinery for harnesses that simulate many agents
 * in one process (the command fan-out benchmark): the real executor, outbox and handler kit.
 */
export { createCommandExecutor } from "./commands/command-executor.js";
export { CommandError, defineHandler } from "./commands/command-handler.js";
export { createCommandOutbox, streamOutboxWriter } from "./commands/command-outbox.js";
export { openRecentCommands } from "./commands/recent-commands.js";
