import type { Thresholds } from "../../platform/config/alert-config.js";
import type { AlertSignal, AlertText, BuiltinRuleSettings, Severity } from "./alert-types.js";
import { alertFingerprint } from "./fingerprint.js";
import { formatValue } from "./metric-catalogue.js";
import type { ServerObservation } from "./observe-servers.js";

export const MEMORY_RULE = "builtin:memory_pressure";
export const SWAP_RULE = "builtin:swap_pressure";
export const LOAD_RULE = "builtin:load_per_core";
export const CLOCK_SKEW_RULE = "builtin:clock_skew";
export const CERTIFICATE_RULE = "builtin:agent_certificate";
export const RESTART_LOOP_RULE = "builtin:container_restart_loop";
export const DISK_FULL_RULE = "builtin:disk_time_to_full";

/** A firing alert resolves once its value is this share back past the warn threshold. */
const RECOVERY_MARGIN = 0.1;
/** A trend needs this many 1-minute points (of the last hour) before it is believed. */
const MIN_TREND_POINTS = 10;

interface ThresholdCheck {
  readonly ruleKey: string;
  readonly ruleName: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** null: nothing to judge by this cycle (the alert is held as it is). */
  readonly value: number | null;
  readonly thresholds: Thresholds;
  /** "up": higher is worse (percentages, load); "down": lower is worse (days or hours left). */
  readonly worse: "up" | "down";
  readonly forMs: number;
  readonly text: (value: number, severity: Severity, threshold: number) => AlertText;
}

/** One threshold check's signal: warning past `warn`, critical past `critical`, with hysteresis. */
function thresholdSignal(server: ServerObservation, check: ThresholdCheck): AlertSignal {
  const { value, thresholds, worse } = check;
  const past = (limit: number) => value !== null && (worse === "up" ? value >= limit : value <= limit);
  const severity: Severity = past(thresholds.critical) ? "critical" : "warning";
  const threshold = severity === "critical" ? thresholds.critical : thresholds.warn;
  const recoverAt = thresholds.warn * (worse === "up" ? 1 - RECOVERY_MARGIN : 1 + RECOVERY_MARGIN);
  const labels = check.labels ?? {};
  return {
    fingerprint: alertFingerprint(check.ruleKey, server.serverId, labels),
    ruleKey: check.ruleKey,
    ruleName: check.ruleName,
    serverId: server.serverId,
    labels,
    severity,
    value: value === null ? null : Math.round(value * 100) / 100,
    threshold,
    active: past(thresholds.warn),
    recovered: value !== null && (worse === "up" ? value < recoverAt : value > recoverAt),
    noData: value === null,
    dependent: true,
    describe: () => check.text(value ?? 0, severity, threshold),
    timing: { forMs: check.forMs, keepFiringForMs: 0 },
  };
}

/**
 * The host checks judged from what the agent already sends (its newest sample, its certificate,
 * the last hour of rollups): memory and swap pressure, load per core, clock skew, containers in a
 * restart loop, agent certificate expiry and the fullest filesystem's time to full.
 */
export function hostCheckSignals(
  server: ServerObservation,
  settings: BuiltinRuleSettings,
  now: Date,
): AlertSignal[] {
  const signals: AlertSignal[] = [];
  const forMs = settings.hostCheckForSeconds * 1000;
  const name = server.name;
  const sample = server.sample;
  if (sample) {
    const v = sample.values;
    signals.push(
      thresholdSignal(server, {
        ruleKey: MEMORY_RULE,
        ruleName: "Memory pressure",
        value: v.memory_total > 0 ? (100 * (v.memory_total - v.memory_available)) / v.memory_total : null,
        thresholds: settings.memoryPercent,
        worse: "up",
        forMs,
        text: (value, severity, threshold) => ({
          summary: `memory on ${name} is ${formatValue(value, "%")} in use (${severity} at ${threshold}%)`,
          action: `Find what grew on ${name} (\`ps aux --sort=-rss | head\`, \`docker stats --no-stream\`): an Odoo worker count too high for the RAM, a leaking process, or too many instances on one host. Lower workers, set container memory limits, or add memory.`,
        }),
      }),
    );
    if (v.swap_total > 0) {
      signals.push(
        thresholdSignal(server, {
          ruleKey: SWAP_RULE,
          ruleName: "Swap pressure",
          value: (100 * v.swap_used) / v.swap_total,
          thresholds: settings.swapPercent,
          worse: "up",
          forMs,
          text: (value, severity, threshold) => ({
            summary: `swap on ${name} is ${formatValue(value, "%")} in use (${severity} at ${threshold}%)`,
            action: `${name} is short of memory and pages to disk, which slows every instance on it: see what uses memory (\`free -h\`, \`docker stats --no-stream\`) and reduce it or add memory.`,
          }),
        }),
      );
    }
    signals.push(
      thresholdSignal(server, {
        ruleKey: LOAD_RULE,
        ruleName: "Load per core",
        value: v.load5 / Math.max(1, v.cpu_cores),
        thresholds: settings.loadPerCore,
        worse: "up",
        forMs,
        text: (value, severity, threshold) => ({
          summary: `the 5-minute load on ${name} is ${formatValue(value, "")} per core (${severity} at ${threshold})`,
          action: `More work is waiting for CPU (or disk I/O) on ${name} than it has cores: look at \`top\` and \`docker stats --no-stream\` for the busy instance or a runaway cron, or move instances to another host.`,
        }),
      }),
    );
    const skewSeconds = (sample.collectedAt.getTime() - sample.receivedAt.getTime()) / 1000;
    signals.push(
      thresholdSignal(server, {
        ruleKey: CLOCK_SKEW_RULE,
        ruleName: "Clock skew",
        value: Math.abs(skewSeconds),
        thresholds: settings.clockSkewSeconds,
        worse: "up",
        forMs,
        text: (value, severity, threshold) => ({
          summary: `the clock of ${name} is ${formatValue(value, "s")} ${skewSeconds > 0 ? "ahead of" : "behind"} this server (${severity} at ${threshold} s)`,
          action: `Enable time synchronisation on ${name} (\`timedatectl set-ntp true\`, then \`timedatectl timesync-status\`): a skewed clock breaks TLS certificates, scheduled actions and backup times.`,
        }),
      }),
    );
    for (const container of sample.restarting) {
      signals.push({
        fingerprint: alertFingerprint(RESTART_LOOP_RULE, server.serverId, { container }),
        ruleKey: RESTART_LOOP_RULE,
        ruleName: "Container restart loop",
        serverId: server.serverId,
        labels: { container },
        severity: "warning",
        value: null,
        threshold: null,
        active: true,
        recovered: false,
        noData: false,
        dependent: true,
        describe: () => ({
          summary: `container ${container} on ${name} keeps restarting`,
          action: `Read why it exits: \`docker logs --tail 100 ${container}\` on ${name} (a bad configuration, a missing database, too little memory). The alert resolves once it stays up.`,
        }),
        timing: { forMs, keepFiringForMs: 0 },
      });
    }
    signals.push(diskFullSignal(server, settings, forMs));
  }
  if (server.certificateNotAfter) {
    const notAfter = server.certificateNotAfter;
    signals.push(
      thresholdSignal(server, {
        ruleKey: CERTIFICATE_RULE,
        ruleName: "Agent certificate expiry",
        value: (notAfter.getTime() - now.getTime()) / 86_400_000,
        thresholds: settings.certificateDays,
        worse: "down",
        forMs: 0,
        text: (days, severity, threshold) => ({
          summary: `the agent certificate of ${name} expires in ${formatValue(days, "")} days, on ${notAfter.toISOString()} (${severity} under ${threshold} days)`,
          action: `The agent renews its certificate on its own well before it expires, so renewal is failing: read \`journalctl -u ocore-agent\` on ${name}. If it cannot renew, enroll it again with a new enrollment token before it expires.`,
        }),
      }),
    );
  }
  return signals;
}

/**
 * Time to full of the fullest filesystem, from the least-squares slope of its last hour: it
 * alerts before the disk threshold is reached when the disk fills fast, and resolves once it no
 * longer fills (or there is no trend to believe).
 */
function diskFullSignal(
  server: ServerObservation,
  settings: BuiltinRuleSettings,
  forMs: number,
): AlertSignal {
  const name = server.name;
  const used = server.sample?.values.disk_used_percent ?? 0;
  const trend = server.diskTrend;
  const filling = trend !== undefined && trend.points >= MIN_TREND_POINTS && trend.percentPerSecond > 0;
  const action = `Find what writes on ${name} (\`du -xh --max-depth=2 / | sort -h | tail\`, \`docker system df\`): runaway logs, a backup filling the disk, a growing database. Stop it or grow the filesystem before it is full.`;
  const signal = thresholdSignal(server, {
    ruleKey: DISK_FULL_RULE,
    ruleName: "Disk filling up",
    value: filling ? Math.max(0, 100 - used) / (trend.percentPerSecond * 3600) : null,
    thresholds: settings.diskFullHours,
    worse: "down",
    forMs,
    text: (hours, severity, threshold) => ({
      summary: `the fullest filesystem of ${name} (${formatValue(used, "%")} used) will be full in about ${formatValue(hours, "h")} at the last hour's rate (${severity} under ${threshold} h)`,
      action,
    }),
  });
  if (filling) return signal;
  // Not filling: nothing to alert about, and a firing alert resolves.
  return {
    ...signal,
    noData: false,
    recovered: true,
    describe: () => ({
      summary: `the fullest filesystem of ${name} (${formatValue(used, "%")} used) is no longer filling up`,
      action,
    }),
  };
}
