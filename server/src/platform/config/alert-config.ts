import type { TagThresholdOverride } from "./check-settings.js";
import { ConfigError } from "./config-error.js";
import type { SettingValues } from "./settings.js";

/** Alert evaluation: how often, the built-in rules' thresholds, and notification timing. */
export interface AlertConfig {
  readonly evaluateEverySeconds: number;
  readonly builtin: BuiltinRuleSettings;
  readonly notify: AlertNotifySettings;
}

/** Settings of the built-in alert rules (OCORE_ALERT_*). */
export interface BuiltinRuleSettings {
  readonly diskWarnPercent: number;
  readonly diskCriticalPercent: number;
  /** A firing disk alert resolves once the mount is this many points below the warn threshold. */
  readonly diskRecoveryMarginPercent: number;
  readonly diskForSeconds: number;
  readonly agentOfflineForSeconds: number;
  /** Warn and critical thresholds of the host checks (OCORE_ALERT_* "WARN,CRITICAL"). */
  readonly memoryPercent: Thresholds;
  readonly swapPercent: Thresholds;
  readonly loadPerCore: Thresholds;
  readonly clockSkewSeconds: Thresholds;
  /** Lower is worse: days left, hours left. */
  readonly certificateDays: Thresholds;
  readonly diskFullHours: Thresholds;
  /** The `for` of memory, swap, load, clock skew, restart loops and disk time-to-full. */
  readonly hostCheckForSeconds: number;
  /** Inodes in use per filesystem (judged when the agent's check results arrive). */
  readonly inodesPercent: Thresholds;
  /** Minutes an instance's most overdue scheduled action may be late (judged when the agent's results arrive). */
  readonly cronLagMinutes: Thresholds;
  /** Per-tag threshold overrides, first match wins (OCORE_ALERT_TAG_THRESHOLDS). */
  readonly tagOverrides: readonly TagThresholdOverride[];
  /** A scheduled backup may be this late before its freshness alert fires. */
  readonly backupGraceSeconds: number;
}

/** A check's two thresholds. */
export interface Thresholds {
  readonly warn: number;
  readonly critical: number;
}

/** When grouped alert notifications go out (OCORE_ALERT_GROUP_*, _REPEAT_*, _FLAP_*). */
export interface AlertNotifySettings {
  readonly groupWaitSeconds: number;
  readonly groupIntervalSeconds: number;
  /** 0: never repeat. */
  readonly repeatIntervalSeconds: number;
  /** 0: no flap detection. */
  readonly flapThreshold: number;
  readonly flapWindowSeconds: number;
}

export function toAlertConfig(values: SettingValues): AlertConfig {
  if (values.OCORE_ALERT_DISK_CRITICAL_PERCENT < values.OCORE_ALERT_DISK_WARN_PERCENT) {
    throw new ConfigError(
      "OCORE_ALERT_DISK_CRITICAL_PERCENT",
      `is ${values.OCORE_ALERT_DISK_CRITICAL_PERCENT}, below OCORE_ALERT_DISK_WARN_PERCENT (${values.OCORE_ALERT_DISK_WARN_PERCENT})`,
      "Set the critical threshold at or above the warn threshold.",
    );
  }
  return {
    evaluateEverySeconds: values.OCORE_ALERT_EVALUATE_EVERY_SECONDS,
    builtin: {
      diskRecoveryMarginPercent: 5,
      diskWarnPercent: values.OCORE_ALERT_DISK_WARN_PERCENT,
      diskCriticalPercent: values.OCORE_ALERT_DISK_CRITICAL_PERCENT,
      diskForSeconds: values.OCORE_ALERT_DISK_FOR_SECONDS,
      agentOfflineForSeconds: values.OCORE_ALERT_AGENT_OFFLINE_FOR_SECONDS,
      memoryPercent: values.OCORE_ALERT_MEMORY_PERCENT,
      swapPercent: values.OCORE_ALERT_SWAP_PERCENT,
      loadPerCore: values.OCORE_ALERT_LOAD_PER_CORE,
      clockSkewSeconds: values.OCORE_ALERT_CLOCK_SKEW_SECONDS,
      certificateDays: values.OCORE_ALERT_CERTIFICATE_DAYS,
      diskFullHours: values.OCORE_ALERT_DISK_FULL_HOURS,
      hostCheckForSeconds: values.OCORE_ALERT_HOST_CHECK_FOR_SECONDS,
      inodesPercent: values.OCORE_ALERT_INODES_PERCENT,
      cronLagMinutes: values.OCORE_ALERT_CRON_LAG_MINUTES,
      tagOverrides: values.OCORE_ALERT_TAG_THRESHOLDS,
      backupGraceSeconds: values.OCORE_ALERT_BACKUP_GRACE_MINUTES * 60,
    },
    notify: {
      groupWaitSeconds: values.OCORE_ALERT_GROUP_WAIT_SECONDS,
      groupIntervalSeconds: values.OCORE_ALERT_GROUP_INTERVAL_SECONDS,
      repeatIntervalSeconds: values.OCORE_ALERT_REPEAT_INTERVAL_SECONDS,
      flapThreshold: values.OCORE_ALERT_FLAP_THRESHOLD,
      flapWindowSeconds: values.OCORE_ALERT_FLAP_WINDOW_SECONDS,
    },
  };
}
