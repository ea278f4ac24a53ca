import type { AlertSignal, BuiltinRuleSettings, Severity } from "./alert-types.js";
import { alertFingerprint } from "./fingerprint.js";
import { formatValue } from "./metric-catalogue.js";
import type { ServerObservation } from "./observe-servers.js";

export const AGENT_OFFLINE_RULE = "builtin:agent_offline";
export const DISK_USED_RULE = "builtin:disk_used";

/**
 * The agent-offline rule: active while presence shows the server offline (its stream ended or
 * fell silent). It is the rule the others depend on, so it is never held as unreachable itself.
 */
export function agentOfflineSignal(server: ServerObservation, settings: BuiltinRuleSettings): AlertSignal {
  return {
    fingerprint: alertFingerprint(AGENT_OFFLINE_RULE, server.serverId, {}),
    ruleKey: AGENT_OFFLINE_RULE,
    ruleName: "Agent offline",
    serverId: server.serverId,
    labels: {},
    severity: "critical",
    value: null,
    threshold: null,
    active: server.offline,
    recovered: !server.offline,
    noData: false,
    dependent: false,
    describe: () => ({
      summary: server.offline
        ? `host ${server.name} is lost: its agent has not been heard from ${server.lastSeenAt ? `since ${server.lastSeenAt.toISOString()}` : "since it was added"}`
        : `the agent of ${server.name} is connected again`,
      action: `Check that ${server.name} is up and reachable, then run \`systemctl status ocore-agent\` (or \`journalctl -u ocore-agent\`) on it. Its other alerts are held until the agent is back.`,
    }),
    timing: { forMs: settings.agentOfflineForSeconds * 1000, keepFiringForMs: 0 },
  };
}

/**
 * The disk rule, one signal per mount of the newest sample: warning from the warn threshold,
 * critical from the critical one, resolved once the mount is `diskRecoveryMarginPercent` points
 * below the warn threshold.
 */
export function diskSignals(server: ServerObservation, settings: BuiltinRuleSettings): AlertSignal[] {
  const sample = server.sample;
  if (!sample) return [];
  const recoverBelow = settings.diskWarnPercent - settings.diskRecoveryMarginPercent;
  return sample.mounts.map(([mount, used]): AlertSignal => {
    const severity: Severity = used >= settings.diskCriticalPercent ? "critical" : "warning";
    const threshold = severity === "critical" ? settings.diskCriticalPercent : settings.diskWarnPercent;
    const value = Math.round(used * 100) / 100;
    return {
      fingerprint: alertFingerprint(DISK_USED_RULE, server.serverId, { mount }),
      ruleKey: DISK_USED_RULE,
      ruleName: "Disk used",
      serverId: server.serverId,
      labels: { mount },
      severity,
      value,
      threshold,
      active: used >= settings.diskWarnPercent,
      recovered: used < recoverBelow,
      noData: false,
      dependent: true,
      describe: () => ({
        summary: `disk ${mount} on ${server.name} is ${formatValue(value, "%")} full (${severity} at ${threshold}%)`,
        action: `Free space on ${mount} of ${server.name}: delete old backups and logs (\`journalctl --vacuum-size=200M\`), prune unused Docker images (\`docker image prune -a\`), or grow the filesystem. The alert resolves below ${recoverBelow}%.`,
      }),
      timing: { forMs: settings.diskForSeconds * 1000, keepFiringForMs: 0 },
    };
  });
}

/** Fingerprints a server's disk alerts may have; a mount that disappeared counts as recovered. */
export function diskFingerprint(serverId: string, mount: string): string {
  return alertFingerprint(DISK_USED_RULE, serverId, { mount });
}
