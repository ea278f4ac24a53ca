import { spawn } from "node:child_process";
import { access, constants } from "node:fs/promises";
import {
  AgentUninstallResultSchema,
  AgentUninstallSchema,
} from "@ocore/proto/gen/ocore/agent/v1/agent_commands_pb.js";
import { CommandError, defineHandler } from "../commands/command-handler.js";
import { type AfterFinish, afterFinish } from "./after-finish.js";
import { type InstallLayout, readInstallLayout } from "./install-layout.js";

export interface UninstallHandlerOptions {
  readonly layout?: () => Promise<InstallLayout>;
  readonly afterFinish?: AfterFinish;
  /** Starts the detached uninstall (default: a real process, see `launch`). */
  readonly launch?: (command: string, args: readonly string[]) => void;
}

/** Starts a process in its own session that outlives this agent. */
function launch(command: string, args: readonly string[]): void {
  spawn(command, args, { detached: true, stdio: "ignore" }).unref();
}

/**
 * ocore.agent.v1.AgentUninstall: checks that it can run uninstall-agent.sh, finishes the command,
 * then starts the script detached. Under systemd it runs as a transient unit (systemd-run), out of
 * the agent's cgroup, because stopping the agent's unit kills everything in it; supervised, in a
 * new session. The script stops the service or supervisor (and so this agent) and deletes it all.
 */
export function createAgentUninstallHandler(options: UninstallHandlerOptions = {}) {
  const layoutOf = options.layout ?? (() => readInstallLayout());
  const later = options.afterFinish ?? afterFinish;
  const start = options.launch ?? launch;

  return defineHandler({
    input: AgentUninstallSchema,
    output: AgentUninstallResultSchema,
    async run() {
      const layout = await layoutOf();
      try {
        await access(layout.uninstallScript, constants.X_OK);
      } catch {
        throw new CommandError(
          "uninstall_failed",
          `${layout.uninstallScript} is missing or not executable: re-run install-agent.sh on the host, or remove the agent by hand`,
        );
      }
      const scriptArgs = ["--prefix", layout.prefix, "--unit-name", layout.unitName];
      later(() => {
        if (layout.mode === "systemd") {
          start("systemd-run", [
            `--unit=${layout.unitName}-uninstall`,
            "--collect",
            "--no-block",
            "--quiet",
            layout.uninstallScript,
            ...scriptArgs,
          ]);
        } else {
          start(layout.uninstallScript, scriptArgs);
        }
      });
      return { mode: layout.mode };
    },
  });
}
