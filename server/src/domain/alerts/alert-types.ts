import type { BuiltinRuleSettings } from "../../platform/config/alert-config.js";

/** What an alert's severity can be; built-in disk alerts move between them with the value. */
export type Severity = "warning" | "critical";

export const comparisons = [">", ">=", "<", "<="] as const;
export type Comparison = (typeof comparisons)[number];

export interface AlertText {
  readonly summary: string;
  readonly action: string;
}

/** How long a condition must hold before firing, and a clear state before resolving. */
export interface RuleTiming {
  readonly forMs: number;
  readonly keepFiringForMs: number;
}

/**
 * What one rule says about one server (and label set, e.g. a mount) in one evaluation: whether
 * the firing condition holds (`active`), whether the value is back past the recovery threshold
 * (`recovered`), or that there is no fresh data to judge (`noData`). Between the two thresholds
 * neither holds: a firing alert keeps firing and nothing new starts (hysteresis).
 */
export interface AlertSignal {
  readonly fingerprint: string;
  readonly ruleKey: string;
  readonly ruleName: string;
  readonly serverId: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly severity: Severity;
  readonly value: number | null;
  readonly threshold: number | null;
  readonly active: boolean;
  readonly recovered: boolean;
  readonly noData: boolean;
  /** Depends on the agent being reachable: held as `unreachable` while the server is offline. */
  readonly dependent: boolean;
  /**
   * What the alert says and what to do, built only for signals whose alert is written (a healthy
   * fleet of 10,000 servers yields ~50,000 signals a cycle and needs none of these texts).
   */
  readonly describe: () => AlertText;
  readonly timing: RuleTiming;
}

/** Settings of the built-in rules (OCORE_ALERT_*): declared with the settings they come from. */
export type { BuiltinRuleSettings };

/** The settings table's defaults, for tests and tools that build settings by hand. */
export const defaultBuiltinRuleSettings: BuiltinRuleSettings = {
  diskWarnPercent: 80,
  diskCriticalPercent: 90,
  diskRecoveryMarginPercent: 5,
  diskForSeconds: 300,
  agentOfflineForSeconds: 60,
  memoryPercent: { warn: 90, critical: 95 },
  swapPercent: { warn: 50, critical: 80 },
  loadPerCore: { warn: 2, critical: 4 },
  clockSkewSeconds: { warn: 10, critical: 60 },
  certificateDays: { warn: 14, critical: 3 },
  diskFullHours: { warn: 48, critical: 12 },
  hostCheckForSeconds: 300,
  inodesPercent: { warn: 85, critical: 95 },
  cronLagMinutes: { warn: 15, critical: 60 },
  tagOverrides: [],
  backupGraceSeconds: 3600,
};

export function compare(value: number, comparison: Comparison, threshold: number): boolean {
  switch (comparison) {
    case ">":
      return value > threshold;
    case ">=":
      return value >= threshold;
    case "<":
      return value < threshold;
    case "<=":
      return value <= threshold;
  }
}

/** The comparison that says a value is back on the good side of a recovery threshold. */
export function recoveredComparison(comparison: Comparison): Comparison {
  return comparison === ">" || comparison === ">=" ? "<" : ">";
}
