import type { BuiltinRuleSettings, Thresholds } from "../../platform/config/alert-config.js";
import type { OverridableThreshold } from "../../platform/config/check-settings.js";
import { AppError } from "../../platform/errors/app-error.js";
import { matchesSelector, parseSelector, type Selector, type Tags } from "../auth/selector.js";

/** The built-in thresholds that apply to one server, from its tags. */
export type ThresholdResolver = (tags: Tags) => BuiltinRuleSettings;

/**
 * Settings defaults with the per-tag overrides (OCORE_ALERT_TAG_THRESHOLDS) applied: the first
 * override whose selector matches the server's tags replaces the thresholds it names. Selectors
 * are parsed once here; a bad one is refused naming its entry.
 */
export function createThresholdResolver(settings: BuiltinRuleSettings): ThresholdResolver {
  const compiled = settings.tagOverrides.map((override, index) => {
    let selector: Selector;
    try {
      selector = parseSelector(override.selector, `OCORE_ALERT_TAG_THRESHOLDS[${index}].selector`);
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw AppError.invalid(`OCORE_ALERT_TAG_THRESHOLDS[${index}].selector`, String(error));
    }
    return { selector, settings: applyOverride(settings, override.thresholds) };
  });
  if (compiled.length === 0) return () => settings;
  return (tags) => compiled.find((entry) => matchesSelector(entry.selector, tags))?.settings ?? settings;
}

function applyOverride(
  base: BuiltinRuleSettings,
  thresholds: Partial<Record<OverridableThreshold, Thresholds>>,
): BuiltinRuleSettings {
  return {
    ...base,
    diskWarnPercent: thresholds.disk?.warn ?? base.diskWarnPercent,
    diskCriticalPercent: thresholds.disk?.critical ?? base.diskCriticalPercent,
    inodesPercent: thresholds.inodes ?? base.inodesPercent,
    memoryPercent: thresholds.memory ?? base.memoryPercent,
    swapPercent: thresholds.swap ?? base.swapPercent,
    loadPerCore: thresholds.load ?? base.loadPerCore,
    clockSkewSeconds: thresholds.clock_skew ?? base.clockSkewSeconds,
    diskFullHours: thresholds.disk_full_hours ?? base.diskFullHours,
    cronLagMinutes: thresholds.cron_lag ?? base.cronLagMinutes,
  };
}
