/** A server's health as the console shows it: each built-in check and where it stands (pure). */
export interface HealthAlert {
  readonly serverId: string;
  readonly ruleKey: string;
  readonly ruleName: string;
  readonly state: string;
  readonly severity: string;
  readonly summary: string;
  readonly action: string;
  readonly labels: Readonly<Record<string, string>>;
}

export type HealthState = "ok" | "pending" | "warning" | "critical" | "unreachable";

export interface HealthRow {
  readonly check: string;
  readonly state: HealthState;
  /** What is wrong and what to do; empty when fine. */
  readonly summary: string;
  readonly action: string;
}

/** The built-in checks, in the order the panel lists them. */
export const HEALTH_CHECKS: ReadonlyArray<readonly [ruleKey: string, name: string]> = [
  ["builtin:agent_offline", "Agent connected"],
  ["builtin:disk_used", "Disk space"],
  ["builtin:disk_time_to_full", "Disk filling up"],
  ["builtin:memory_pressure", "Memory"],
  ["builtin:swap_pressure", "Swap"],
  ["builtin:load_per_core", "Load per core"],
  ["builtin:container_restart_loop", "Containers"],
  ["builtin:clock_skew", "Clock"],
  ["builtin:agent_certificate", "Agent certificate"],
  ["builtin:backup_freshness", "Backups"],
];

/** The checks the agent runs on the host, as people read them (the panel's second list). */
export function agentCheckTitle(key: string, subject: string): string {
  switch (key) {
    case "docker":
      return "Docker daemon";
    case "docker_start":
      return "Docker starts containers";
    case "sshd":
      return "sshd";
    case "inodes":
      return `Inodes ${subject}`;
    case "odoo_containers":
      return `Containers of ${subject}`;
    case "odoo_web":
      return `Odoo web ${subject}`;
    case "odoo_realtime":
      return `Odoo real time ${subject}`;
    case "odoo_cron":
      return `Scheduled actions of ${subject}`;
    case "odoo_mail":
      return `Mail queue of ${subject}`;
    default:
      return subject ? `${key} ${subject}` : key;
  }
}

/** The agent's checks of one Odoo instance (by its name), in the order the instance page lists them. */
export function instanceChecks<T extends { readonly key: string; readonly subject: string }>(
  checks: readonly T[],
  instanceName: string,
): T[] {
  const order = ["odoo_containers", "odoo_web", "odoo_realtime", "odoo_cron", "odoo_mail"];
  return checks
    .filter((check) => check.subject === instanceName && order.includes(check.key))
    .sort((a, b) => order.indexOf(a.key) - order.indexOf(b.key));
}

/** An instance check's name on the instance's own page (the instance is already named there). */
export const INSTANCE_CHECK_NAMES: Readonly<Record<string, string>> = {
  odoo_containers: "Containers",
  odoo_web: "Web (health check)",
  odoo_realtime: "Real time",
  odoo_cron: "Scheduled actions",
  odoo_mail: "Mail queue",
};

const RANK: Record<HealthState, number> = { ok: 0, pending: 1, unreachable: 2, warning: 3, critical: 4 };

function stateOf(alert: HealthAlert): HealthState {
  if (alert.state === "firing") return alert.severity === "critical" ? "critical" : "warning";
  if (alert.state === "pending") return "pending";
  if (alert.state === "unreachable") return "unreachable";
  return "ok";
}

/**
 * One row per built-in check for this server: ok unless one of its open alerts says otherwise
 * (the worst one, when a check has several, e.g. one per mount), plus one row per user rule
 * with an open alert.
 */
export function serverHealth(alerts: readonly HealthAlert[], serverId: string): HealthRow[] {
  const open = alerts.filter((alert) => alert.serverId === serverId && alert.state !== "resolved");
  const worst = new Map<string, HealthAlert>();
  for (const alert of open) {
    const known = worst.get(alert.ruleKey);
    if (!known || RANK[stateOf(alert)] > RANK[stateOf(known)]) worst.set(alert.ruleKey, alert);
  }
  const row = (check: string, alert: HealthAlert | undefined): HealthRow =>
    alert
      ? { check, state: stateOf(alert), summary: alert.summary, action: alert.action }
      : { check, state: "ok", summary: "", action: "" };
  const builtin = HEALTH_CHECKS.map(([key, name]) => row(name, worst.get(key)));
  const user = [...worst.values()]
    .filter((alert) => !alert.ruleKey.startsWith("builtin:"))
    .map((alert) => row(alert.ruleName, alert));
  return [...builtin, ...user];
}
