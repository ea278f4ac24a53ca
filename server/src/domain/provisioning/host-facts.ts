import type { ProvisioningFacts } from "../../platform/db/schema/provisioning.js";

/**
 * Reads facts.sh's KEY=VALUE lines. Unknown keys are ignored (a newer script may say more);
 * a missing or malformed key is an error naming it, since the verdicts depend on every one.
 */
export function parseFacts(output: string): ProvisioningFacts {
  const values = new Map<string, string>();
  for (const line of output.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) values.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  const text = (key: string) => {
    const value = values.get(key);
    if (value === undefined) throw new Error(`facts.sh did not report ${key}`);
    return value;
  };
  const count = (key: string) => {
    const value = Number(text(key));
    if (!Number.isFinite(value) || value < 0)
      throw new Error(`facts.sh reported ${key}=${text(key)}, not a number`);
    return value;
  };
  const flag = (key: string) => text(key) === "true";
  return {
    hostname: text("hostname"),
    osId: text("os_id").toLowerCase(),
    osIdLike: text("os_id_like").toLowerCase(),
    osVersion: text("os_version"),
    osName: text("os_name"),
    kernel: text("kernel"),
    architecture: text("architecture"),
    cpuCores: count("cpu_cores"),
    memoryTotalBytes: count("memory_total_bytes"),
    diskAvailableBytes: count("disk_available_bytes"),
    diskTotalBytes: count("disk_total_bytes"),
    dockerVersion: text("docker_version"),
    dockerDaemonAnswers: flag("docker_daemon_answers"),
    systemd: flag("systemd"),
    initProcess: text("init_process"),
    isRoot: flag("is_root"),
    passwordlessSudo: flag("passwordless_sudo"),
  };
}
