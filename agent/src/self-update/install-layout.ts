import { readFile } from "node:fs/promises";
import path from "node:path";
import { isSea } from "node:sea";
import { CommandError } from "../commands/command-handler.js";

/**
 * Where install-agent.sh put the agent (deploy/host/install-agent.sh): PREFIX/bin/ocore-agent,
 * PREFIX/libexec/*.sh and PREFIX/etc/install.conf (`mode=`, `unit=`, `prefix=` lines). The
 * running executable's own path says which prefix it is.
 */
export interface InstallLayout {
  readonly prefix: string;
  readonly mode: "systemd" | "supervised";
  readonly unitName: string;
  /** bin/ocore-agent: the executable the supervisor starts. */
  readonly executable: string;
  /** bin/ocore-agent.prev: the one before the last upgrade. */
  readonly previous: string;
  /** bin/ocore-agent.new: an upgrade being downloaded. */
  readonly download: string;
  /** bin/ocore-agent.upgrade: present from the swap until the new executable reached the server. */
  readonly marker: string;
  readonly uninstallScript: string;
}

/** The paths next to an executable, whether or not it was installed by the script. */
export function executablePaths(executable: string) {
  return {
    executable,
    previous: `${executable}.prev`,
    download: `${executable}.new`,
    marker: `${executable}.upgrade`,
  };
}

/** Reads the layout of the running agent; refuses an agent that is not the installed executable. */
export async function readInstallLayout(
  executable = process.execPath,
  runningAsExecutable: boolean = isSea(),
): Promise<InstallLayout> {
  if (!runningAsExecutable) {
    throw new CommandError(
      "not_installed",
      `this agent runs under Node.js (${executable}), not as the installed ocore-agent executable: install it with deploy/host/install-agent.sh, then retry`,
    );
  }
  const prefix = path.dirname(path.dirname(executable));
  const confPath = path.join(prefix, "etc", "install.conf");
  let text: string;
  try {
    text = await readFile(confPath, "utf8");
  } catch (error) {
    throw new CommandError(
      "not_installed",
      `${confPath} cannot be read (${(error as NodeJS.ErrnoException).code}): this agent was not installed by install-agent.sh; re-run the installer on the host, then retry`,
    );
  }
  const values = new Map(
    text
      .split("\n")
      .map((line) => /^([a-z_]+)=(.*)$/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => [match[1] ?? "", match[2] ?? ""]),
  );
  const mode = values.get("mode");
  const unitName = values.get("unit") ?? "ocore-agent";
  if ((mode !== "systemd" && mode !== "supervised") || !/^[A-Za-z0-9_.@-]+$/.test(unitName)) {
    throw new CommandError(
      "not_installed",
      `${confPath} does not name a mode (systemd or supervised) and unit: re-run install-agent.sh on the host, then retry`,
    );
  }
  return {
    prefix,
    mode,
    unitName,
    ...executablePaths(executable),
    uninstallScript: path.join(prefix, "libexec", "uninstall-agent.sh"),
  };
}
