import type { InstanceStatus } from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import type { InstanceState } from "../../platform/db/schema/instances.js";

export interface DerivedState {
  readonly state: InstanceState;
  readonly message: string;
}

const ROLE_NAMES: Record<string, string> = { odoo: "Odoo", db: "the database", mail: "Mailpit" };

/** Why a container is not running, in words: OOM, Docker's error, or its exit code. */
function exitReason(container: InstanceStatus["containers"][number]): string {
  const who = ROLE_NAMES[container.role] ?? container.role;
  if (container.oomKilled)
    return `${who} was killed for using more memory than its limit: raise the memory limit`;
  if (container.error) return `${who} could not start: ${container.error}`;
  if (container.state === "dead")
    return `${who}'s container is dead: delete the instance or restore a backup into a new one`;
  return `${who} exited with code ${container.exitCode}: see its log (WatchLogs) and start the instance again`;
}

const CONTAINERS_GONE =
  "the instance's containers are gone from the server: delete it, or restore a backup into a new instance";

/** How a failed creation's message starts (create-instance.ts): nothing was left on the host. */
export const CREATE_FAILED_PREFIX = "creating the instance failed: ";

/**
 * Whether an observation must leave the stored state as it is: an instance whose creation failed
 * has no containers by design, and its message says why (a pull that failed, a port taken);
 * "containers are gone" would replace that reason with a vaguer one.
 */
export function keepsStoredState(
  row: { state: string; stateMessage: string },
  derived: DerivedState,
): boolean {
  return (
    row.state === "failed" &&
    row.stateMessage.startsWith(CREATE_FAILED_PREFIX) &&
    derived.state === "failed" &&
    derived.message === CONTAINERS_GONE
  );
}

/**
 * The instance's state from what Docker reports. `desired` is what was last asked for: an exited
 * container after a stop is `stopped`; without a stop it died, so the instance is `failed` with
 * the exit reason. A missing container is a failure too (something removed it outside oCore).
 */
export function deriveInstanceState(
  status: InstanceStatus | undefined,
  desired: "running" | "stopped",
): DerivedState {
  const containers = status?.containers ?? [];
  const roles = new Set(containers.map((container) => container.role));
  const missing = ["db", "odoo", "mail"].filter((role) => !roles.has(role));
  if (missing.length === 3) {
    return { state: "failed", message: CONTAINERS_GONE };
  }
  if (missing.length > 0) {
    return {
      state: "failed",
      message: `the ${missing.map((role) => ROLE_NAMES[role]).join(" and ")} container is missing on the server: delete the instance, or restore a backup into a new one`,
    };
  }
  if (containers.some((container) => container.state === "restarting")) {
    const restarting = containers.find((container) => container.state === "restarting");
    return {
      state: "restarting",
      message: restarting ? `Docker is restarting it after: ${exitReason(restarting)}` : "",
    };
  }
  const notRunning = containers.filter((container) => container.state !== "running");
  if (notRunning.length === 0) return { state: "running", message: "" };
  if (
    desired === "stopped" &&
    notRunning.every((container) => ["exited", "created"].includes(container.state))
  ) {
    return notRunning.length === containers.length
      ? { state: "stopped", message: "" }
      : { state: "stopped", message: "partly running: stop it again to stop every container" };
  }
  const failed = notRunning[0];
  return { state: "failed", message: failed ? exitReason(failed) : "" };
}
