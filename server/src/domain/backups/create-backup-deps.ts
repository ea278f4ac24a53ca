import { defaultInstanceTiming, postgresCommands } from "../instances/instance-deps.js";
import type { BackupDeps } from "./backup-deps.js";
import { BackupFailedError, createBackup } from "./create-backup.js";

/**
 * Builds the instance and backup deps once in the wiring, with the defaults filled in; deleting
 * an instance takes its automatic pre_delete backup through createBackup.
 */
export function createBackupDeps(
  input: Omit<BackupDeps, "timing" | "databaseCommands" | "now" | "backupBeforeDelete"> & Partial<BackupDeps>,
): BackupDeps {
  const deps: BackupDeps = {
    timing: defaultInstanceTiming,
    databaseCommands: postgresCommands,
    now: () => new Date(),
    backupBeforeDelete: async (context, instanceId) => {
      try {
        await createBackup(deps, context, { instanceId, kind: "pre_delete" });
        return "taken";
      } catch (error) {
        // An instance whose containers never came up has nothing to back up.
        if (error instanceof BackupFailedError && error.agentCode === "not_found") return "nothing_there";
        throw error;
      }
    },
    ...input,
  };
  return deps;
}
