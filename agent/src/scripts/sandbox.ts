import { execFile } from "node:child_process";
import { access } from "node:fs/promises";
import os from "node:os";
import { promisify } from "node:util";
import type { ScriptRun } from "@ocore/proto/gen/ocore/agent/v1/script_commands_pb.js";
import { CommandError } from "../commands/command-handler.js";
import { interpreterArgs } from "./script-command.js";

const run = promisify(execFile);

/** How a script is started: the file, its argv, its environment and the identity to take. */
export interface LaunchPlan {
  readonly sandbox: "systemd" | "process";
  /** One line for the run's first progress chunk (the server stores the sandbox from it). */
  readonly description: string;
  readonly file: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly uid?: number;
  readonly gid?: number;
  /** The transient unit's name (systemd), to stop it on cancel or timeout. */
  readonly unit?: string;
}

/** The environment every run starts from (nothing of the agent's own leaks in). */
const BASE_ENV = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  LANG: "C.UTF-8",
};

export interface SandboxProbe {
  /** systemd is PID 1 (its runtime directory exists) and systemd-run is installed. */
  systemd(): Promise<boolean>;
  uid(): number;
  /** uid and gid of a user, or undefined when it does not exist. */
  lookupUser(name: string): Promise<{ uid: number; gid: number } | undefined>;
  /** prlimit(1) is installed. */
  prlimit(): Promise<boolean>;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

export const hostProbe: SandboxProbe = {
  systemd: async () => (await exists("/run/systemd/system")) && (await exists("/usr/bin/systemd-run")),
  uid: () => process.getuid?.() ?? -1,
  async lookupUser(name) {
    try {
      const [uid, gid] = await Promise.all([run("id", ["-u", "--", name]), run("id", ["-g", "--", name])]);
      return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
    } catch {
      return undefined;
    }
  },
  prlimit: () => exists("/usr/bin/prlimit"),
};

/**
 * Chooses the strongest sandbox available. As root where systemd runs: a transient service
 * (`systemd-run --wait --pipe --collect`) with ProtectSystem=strict, PrivateTmp, NoNewPrivileges,
 * MemoryMax, CPUQuota, TasksMax, RuntimeMaxSec, User= and only the declared write paths.
 * Elsewhere: its own process group (killed whole on timeout or cancel), ulimits through prlimit
 * (no core dumps, CPU seconds, data size), and the run-as user when the agent is root; a
 * non-root agent runs scripts as its own unprivileged user and refuses those that need root.
 */
export async function planLaunch(
  spec: ScriptRun,
  interpreter: string,
  commandId: string,
  probe: SandboxProbe = hostProbe,
): Promise<LaunchPlan> {
  const env = { ...BASE_ENV, ...spec.env };
  const args = interpreterArgs(spec);
  const root = probe.uid() === 0;
  if (root && (await probe.systemd())) {
    const unit = `ocore-run-${commandId}`;
    const properties = [
      "ProtectSystem=strict",
      "PrivateTmp=yes",
      "NoNewPrivileges=yes",
      `RuntimeMaxSec=${spec.timeoutSeconds}`,
      ...(spec.memoryMaxMb > 0 ? [`MemoryMax=${spec.memoryMaxMb}M`, "MemorySwapMax=0"] : []),
      ...(spec.cpuQuotaPercent > 0 ? [`CPUQuota=${spec.cpuQuotaPercent}%`] : []),
      ...(spec.tasksMax > 0 ? [`TasksMax=${spec.tasksMax}`] : []),
      ...spec.writePaths.map((path) => `ReadWritePaths=-${path}`),
    ];
    return {
      sandbox: "systemd",
      description: `sandbox: systemd (unit ${unit}.service, user ${spec.runAs}, ${properties.join(", ")})`,
      file: "/usr/bin/systemd-run",
      args: [
        "--wait",
        "--pipe",
        "--collect",
        "--quiet",
        "--service-type=exec",
        `--unit=${unit}`,
        ...properties.flatMap((p) => ["-p", p]),
        ...(spec.runAs === "root" ? [] : [`--uid=${spec.runAs}`]),
        ...Object.entries(env).map(([name, value]) => `--setenv=${name}=${value}`),
        "--",
        interpreter,
        ...args,
      ],
      env: BASE_ENV,
      unit,
    };
  }
  const limits = [
    "--core=0",
    `--cpu=${spec.timeoutSeconds + 5}`,
    ...(spec.memoryMaxMb > 0 ? [`--data=${spec.memoryMaxMb * 1024 * 1024}`] : []),
  ];
  const withLimits = (await probe.prlimit())
    ? {
        file: "/usr/bin/prlimit",
        args: [...limits, "--", interpreter, ...args],
        note: `ulimits ${limits.join(" ")}`,
      }
    : { file: interpreter, args, note: "no ulimits (prlimit missing)" };
  let identity: { uid: number; gid: number } | undefined;
  let who: string;
  if (root) {
    if (spec.runAs !== "root") {
      identity = await probe.lookupUser(spec.runAs);
      if (!identity)
        throw new CommandError("user_unknown", `the run-as user ${spec.runAs} does not exist on this host`);
    }
    who = `user ${spec.runAs}`;
  } else {
    const self = os.userInfo().username;
    if (spec.runAs === "root") {
      throw new CommandError(
        "sandbox_unavailable",
        `this template runs as root, but the agent runs as ${self} (not root): run the agent as root (systemd install) to use it`,
      );
    }
    who =
      spec.runAs === self
        ? `user ${self}`
        : `the agent's unprivileged user ${self} (not root: cannot switch to ${spec.runAs})`;
  }
  return {
    sandbox: "process",
    description: `sandbox: process (own process group killed on timeout, ${withLimits.note}, ${who}; no systemd${root ? "" : " or not root"})`,
    file: withLimits.file,
    args: withLimits.args,
    env,
    ...identity,
  };
}
