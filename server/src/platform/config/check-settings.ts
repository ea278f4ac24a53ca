import { z } from "zod";
import { type SettingSpec, thresholdPair, wholeNumber } from "./setting-schemas.js";

/** Which built-in thresholds a per-tag override may change, with the range each accepts. */
export const overridableThresholds = {
  disk: thresholdPair(1, 100, "up"),
  inodes: thresholdPair(1, 100, "up"),
  memory: thresholdPair(1, 100, "up"),
  swap: thresholdPair(1, 100, "up"),
  load: thresholdPair(0.1, 1000, "up"),
  clock_skew: thresholdPair(1, 86400, "up"),
  disk_full_hours: thresholdPair(0, 8760, "down"),
  cron_lag: thresholdPair(1, 10080, "up"),
} as const;

export type OverridableThreshold = keyof typeof overridableThresholds;

/** One per-tag override: the servers its selector matches use these thresholds instead. */
export interface TagThresholdOverride {
  readonly selector: string;
  readonly thresholds: Partial<Record<OverridableThreshold, { warn: number; critical: number }>>;
}

const overrideEntry = z
  .object({
    selector: z.string().min(1, "must not be empty").max(1000),
    ...Object.fromEntries(
      Object.entries(overridableThresholds).map(([key, schema]) => [key, schema.optional()]),
    ),
  })
  .strict();

/**
 * OCORE_ALERT_TAG_THRESHOLDS: a JSON list of `{"selector": "env=staging", "disk": "90,95", ...}`;
 * the first entry whose selector matches a server's tags sets its thresholds (unnamed ones keep
 * the settings' values). The selectors' syntax is checked when alerts start.
 */
const tagThresholds = z.string().transform((value, ctx): TagThresholdOverride[] => {
  if (value.trim() === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    ctx.addIssue({
      code: "custom",
      message: 'is not JSON; expected e.g. [{"selector": "env=staging", "disk": "90,95", "inodes": "90,98"}]',
    });
    return z.NEVER;
  }
  const list = z.array(overrideEntry).max(100, "at most 100 overrides").safeParse(parsed);
  if (!list.success) {
    const issue = list.error.issues[0];
    ctx.addIssue({
      code: "custom",
      message: `${issue?.path.join(".") || "value"}: ${issue?.message ?? "invalid"} (keys: selector, ${Object.keys(overridableThresholds).join(", ")})`,
    });
    return z.NEVER;
  }
  return list.data.map(({ selector, ...thresholds }) => ({
    selector,
    thresholds: thresholds as TagThresholdOverride["thresholds"],
  }));
});

/** Thresholds of the agent-side checks and backups, and their per-tag overrides (OCORE_ALERT_*). */
export const checkSettings = {
  OCORE_ALERT_INODES_PERCENT: {
    env: "OCORE_ALERT_INODES_PERCENT",
    description: "Inodes in use on a filesystem, percent, WARN,CRITICAL (reported by the agent per mount).",
    defaultValue: "85,95",
    secret: false,
    schema: thresholdPair(1, 100, "up"),
  },
  OCORE_ALERT_CRON_LAG_MINUTES: {
    env: "OCORE_ALERT_CRON_LAG_MINUTES",
    description:
      "How late an Odoo instance's most overdue scheduled action (ir_cron) may be, minutes, WARN,CRITICAL (read by the agent from the instance's database).",
    defaultValue: "15,60",
    secret: false,
    schema: thresholdPair(1, 10080, "up"),
  },
  OCORE_ALERT_TAG_THRESHOLDS: {
    env: "OCORE_ALERT_TAG_THRESHOLDS",
    description:
      'Per-tag thresholds, a JSON list: [{"selector": "env=staging", "disk": "90,95", "inodes": "90,98"}]; the first matching entry wins. Keys: disk, inodes, memory, swap, load, clock_skew, disk_full_hours, cron_lag (each "WARN,CRITICAL").',
    defaultValue: "",
    secret: false,
    schema: tagThresholds,
  },
  OCORE_ALERT_BACKUP_GRACE_MINUTES: {
    env: "OCORE_ALERT_BACKUP_GRACE_MINUTES",
    description:
      "How long past its scheduled time an instance's backup may be missing before the backup-freshness alert fires, in minutes (1-10080).",
    defaultValue: "60",
    secret: false,
    schema: wholeNumber(1, 10080),
  },
} as const satisfies Record<string, SettingSpec>;
