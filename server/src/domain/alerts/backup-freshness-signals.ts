import type { AlertSignal, BuiltinRuleSettings } from "./alert-types.js";
import { alertFingerprint } from "./fingerprint.js";
import { formatValue } from "./metric-catalogue.js";
import type { ServerObservation } from "./observe-servers.js";

export const BACKUP_FRESHNESS_RULE = "builtin:backup_freshness";

/**
 * Backup freshness, one signal per instance with an enabled schedule: the last successful backup
 * (or, before the first, the schedule's start) is older than the schedule's period plus the grace
 * (OCORE_ALERT_BACKUP_GRACE_MINUTES) → warning; older than two periods plus the grace → critical.
 * A backup that completes resolves it.
 */
export function backupFreshnessSignals(
  server: ServerObservation,
  settings: BuiltinRuleSettings,
  now: Date,
): AlertSignal[] {
  return server.backupSchedules.map((schedule): AlertSignal => {
    const reference = schedule.lastSuccessAt ?? schedule.scheduledSince;
    const ageSeconds = Math.max(0, (now.getTime() - reference.getTime()) / 1000);
    const allowed = schedule.periodSeconds + settings.backupGraceSeconds;
    const critical = ageSeconds > schedule.periodSeconds * 2 + settings.backupGraceSeconds;
    const hours = (seconds: number) => Math.round((seconds / 3600) * 10) / 10;
    const labels = { instance: schedule.instanceName };
    return {
      fingerprint: alertFingerprint(BACKUP_FRESHNESS_RULE, server.serverId, labels),
      ruleKey: BACKUP_FRESHNESS_RULE,
      ruleName: "Backup freshness",
      serverId: server.serverId,
      labels,
      severity: critical ? "critical" : "warning",
      value: hours(ageSeconds),
      threshold: hours(allowed),
      active: ageSeconds > allowed,
      recovered: ageSeconds <= allowed,
      noData: false,
      dependent: true,
      describe: () => ({
        summary: schedule.lastSuccessAt
          ? `the last successful backup of ${schedule.instanceName} on ${server.name} is ${formatValue(hours(ageSeconds), "h")} old (its schedule allows ${formatValue(hours(allowed), "h")})`
          : `${schedule.instanceName} on ${server.name} has had no successful backup in the ${formatValue(hours(ageSeconds), "h")} since its schedule was set (it allows ${formatValue(hours(allowed), "h")})`,
        action: `Open ${schedule.instanceName}'s backups in the console: read the last scheduled run's message (a full disk, the instance stopped, the backup store unreachable), fix it and take a backup now.`,
      }),
      timing: { forMs: 0, keepFiringForMs: 0 },
    };
  });
}
