import type { FleetServer } from "@ocore/proto/gen/ocore/api/v1/fleet_service_pb.js";
import type { Instance } from "@ocore/proto/gen/ocore/api/v1/instance_service_pb.js";

/** States in which the instance is changing by itself; the page follows it until it settles. */
const TRANSITIONAL = new Set(["creating", "removing", "restarting"]);

export function isTransitional(state: string): boolean {
  return TRANSITIONAL.has(state);
}

/**
 * What the live fleet says about the instances of `serverIds` (all servers when omitted): their
 * count and newest change per server. When it differs, the instance list is out of date — an
 * instance was created, removed, or changed state (the agent pushes what Docker reports).
 */
export function instancesVersion(fleet: Iterable<FleetServer>, serverIds?: ReadonlySet<string>): string {
  const parts: string[] = [];
  for (const entry of fleet) {
    const id = entry.server?.id ?? "";
    if (serverIds && !serverIds.has(id)) continue;
    const at = entry.instancesChangedAt;
    parts.push(`${id}:${entry.instanceCount}:${at ? `${at.seconds}.${at.nanos}` : "-"}`);
  }
  return parts.sort().join(",");
}

/** Which actions make sense in a state (the server refuses the others with a reason). */
export function instanceActions(state: string): {
  start: boolean;
  stop: boolean;
  restart: boolean;
  remove: boolean;
} {
  return {
    start: state === "stopped" || state === "failed",
    stop: state === "running" || state === "restarting",
    restart: state === "running" || state === "failed",
    remove: state !== "removing" && state !== "creating",
  };
}

/** An instance port the console shows: a link when it faces the network, else how to tunnel to it. */
export type InstancePort =
  | { label: string; port: number; href: string }
  | { label: string; port: number; tunnel: string };

/**
 * The instance's ports on its server's address. Only Odoo's web port faces the network; the agent
 * publishes longpolling and Mailpit's web UI on the server's 127.0.0.1 (decision 0140: Mailpit has
 * no login, longpolling belongs behind the reverse proxy), so those come with the SSH tunnel that
 * reaches them instead of a link that would not answer.
 */
export function instanceLinks(
  instance: Pick<Instance, "webPort" | "longpollingPort" | "mailpitPort">,
  host: string,
): InstancePort[] {
  if (!host) return [];
  const base = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  const sshHost = host.replace(/^\[(.*)\]$/, "$1");
  const loopback = (label: string, port: number) =>
    port ? { label, port, tunnel: `ssh -L ${port}:127.0.0.1:${port} ${sshHost}` } : undefined;
  return [
    instance.webPort
      ? { label: "Odoo", port: instance.webPort, href: `http://${base}:${instance.webPort}/` }
      : undefined,
    loopback("Longpolling", instance.longpollingPort),
    loopback("Mailpit", instance.mailpitPort),
  ].filter((link) => link !== undefined);
}

/** Instance names as the server accepts them: 2-40 lowercase letters, digits and dashes, starting with a letter. */
export function checkInstanceName(name: string): string | undefined {
  return /^[a-z][a-z0-9-]{1,39}$/.test(name)
    ? undefined
    : "Use 2-40 lowercase letters, digits and dashes, starting with a letter (e.g. shop-prod).";
}
