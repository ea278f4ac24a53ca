import { CHECK_KEYS, type CheckKey, isInstanceCheck } from "../host-checks/host-check-input.js";
import { checkAction, checkTitle } from "../host-checks/judge-check.js";
import type { AlertSignal, BuiltinRuleSettings } from "./alert-types.js";
import { alertFingerprint } from "./fingerprint.js";
import type { ServerObservation } from "./observe-servers.js";

/** The built-in rule of each agent check. */
export const AGENT_CHECK_RULES: Readonly<Record<CheckKey, string>> = {
  docker: "builtin:docker_daemon",
  docker_start: "builtin:docker_start",
  sshd: "builtin:sshd",
  inodes: "builtin:inodes_used",
  odoo_containers: "builtin:instance_containers",
  odoo_web: "builtin:instance_web",
  odoo_realtime: "builtin:instance_realtime",
  odoo_cron: "builtin:instance_cron",
  odoo_mail: "builtin:instance_mail",
};

/** A daemon down this long fires (two agent check cycles and some), or sooner if OCORE_ALERT_HOST_CHECK_FOR_SECONDS is shorter. */
const DAEMON_FOR_MS = 60_000;

/**
 * The alerts of the checks the agent runs on its host, from their newest stored results: a check
 * at warning or critical is active at that severity, ok recovers, unknown holds the alert as it is.
 * Inode states were judged against the server's thresholds (and hysteresis) when they arrived.
 * An instance's checks carry its name as the `instance` label; they depend on the agent like the
 * others, so a lost host still gives one message.
 */
export function agentCheckSignals(server: ServerObservation, settings: BuiltinRuleSettings): AlertSignal[] {
  return server.checks.flatMap((check): AlertSignal[] => {
    if (!(CHECK_KEYS as readonly string[]).includes(check.key)) return [];
    const key = check.key as CheckKey;
    const ruleKey = AGENT_CHECK_RULES[key];
    const labels: Record<string, string> =
      key === "inodes" ? { mount: check.subject } : isInstanceCheck(key) ? { instance: check.subject } : {};
    const critical = check.state === "critical";
    const threshold =
      key === "inodes" ? (critical ? settings.inodesPercent.critical : settings.inodesPercent.warn) : null;
    return [
      {
        fingerprint: alertFingerprint(ruleKey, server.serverId, labels),
        ruleKey,
        ruleName: checkTitle(key, "").trim(),
        serverId: server.serverId,
        labels,
        severity: critical ? "critical" : "warning",
        value: check.value,
        threshold,
        active: check.state === "warning" || critical,
        recovered: check.state === "ok",
        noData: check.state === "unknown",
        dependent: true,
        describe: () => ({
          summary: `${checkTitle(key, check.subject)} on ${server.name}: ${check.message}`,
          action: checkAction(key, check.subject, server.name),
        }),
        timing: {
          forMs:
            key === "inodes"
              ? settings.hostCheckForSeconds * 1000
              : Math.min(DAEMON_FOR_MS, settings.hostCheckForSeconds * 1000),
          keepFiringForMs: 0,
        },
      },
    ];
  });
}
