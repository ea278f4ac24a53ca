import type { CommandHandler } from "../commands/command-handler.js";
import type { DockerDeps } from "../docker/docker-deps.js";
import type { BackupTransfer } from "./backup-transfer.js";
import { createInstanceHandler } from "./create-instance.js";
import { instanceBackupHandler } from "./instance-backup.js";
import { instanceLifecycleHandlers } from "./instance-lifecycle.js";
import { instanceLogsHandler } from "./instance-logs.js";
import { instanceRestoreHandler } from "./instance-restore.js";
import { listeningPortsHandler } from "./listening-ports.js";

/**
 * Every instance command (ocore.agent.v1 instance_commands.proto): create, start, stop,
 * restart, remove, inspect, logs, backup, restore, and the host's listening ports.
 */
export function createInstanceHandlers(
  deps: DockerDeps & { transfer: BackupTransfer; workDir?: string; procRoot?: string },
): CommandHandler[] {
  return [
    createInstanceHandler(deps),
    ...instanceLifecycleHandlers(deps),
    instanceLogsHandler(deps),
    instanceBackupHandler(deps),
    instanceRestoreHandler(deps),
    listeningPortsHandler(deps.procRoot),
  ] as CommandHandler[];
}
