import { eq, getTableColumns, inArray, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { alertRules, alerts } from "../../platform/db/schema/alerts.js";
import { servers } from "../../platform/db/schema/servers.js";
import { createThresholdResolver, type ThresholdResolver } from "../host-checks/server-thresholds.js";
import { agentCheckSignals } from "./agent-check-signals.js";
import { type AlertEvent, type AlertRow, nextAlertState } from "./alert-transition.js";
import type { AlertSignal, BuiltinRuleSettings } from "./alert-types.js";
import { unchanged, writeAlertChanges } from "./alert-writes.js";
import { BACKUP_FRESHNESS_RULE, backupFreshnessSignals } from "./backup-freshness-signals.js";
import { AGENT_OFFLINE_RULE, agentOfflineSignal, DISK_USED_RULE, diskSignals } from "./builtin-signals.js";
import { dispatchNotifications } from "./grouping/dispatch-notifications.js";
import { immediateNotificationPolicy, type NotificationPolicy } from "./grouping/notification-policy.js";
import { hostCheckSignals, RESTART_LOOP_RULE } from "./host-check-signals.js";
import { observeServers, type ServerObservation } from "./observe-servers.js";
import { userRuleSignals } from "./user-rule-signals.js";

/** Serializes evaluation cycles across replicas even if two ever overlap (see claimLeadership in platform/workers/leases.ts). */
const EVALUATION_LOCK = 0x616c7274; // "alrt"

export interface EvaluationResult {
  readonly servers: number;
  readonly signals: number;
  readonly events: number;
  readonly notifications: number;
}

/**
 * One evaluation cycle: reads every watched server's presence and newest sample, computes each
 * rule's signal, moves each alert through its lifecycle, and queues the grouped notifications,
 * all in one transaction (the alert changes and their outbox rows commit together or not at all).
 */
export async function evaluateAlerts(
  db: Db,
  input: {
    readonly now: Date;
    readonly settings: BuiltinRuleSettings;
    readonly maxSampleAgeMs: number;
    /** Group wait, group interval, repeat interval, flap damping; none: tell every change at once. */
    readonly notify?: NotificationPolicy;
  },
): Promise<EvaluationResult> {
  const { now } = input;
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${EVALUATION_LOCK})`);
    const observed = await observeServers(tx, { now, maxSampleAgeMs: input.maxSampleAgeMs });
    const rules = await tx.select().from(alertRules);
    const thresholdsFor = createThresholdResolver(input.settings);
    const signals = [
      ...observed.flatMap((server) => builtinSignals(server, thresholdsFor, now)),
      ...rules.flatMap((rule) => userRuleSignals(rule, observed)),
    ];
    // Every alert of a watched server (resolved ones too: they carry the episode count).
    const current = await tx
      .select(getTableColumns(alerts))
      .from(alerts)
      .innerJoin(servers, eq(servers.id, alerts.serverId))
      .where(inArray(servers.status, ["active", "offline"]));
    const byFingerprint = new Map(current.map((row) => [row.fingerprint, row]));
    const offline = new Set(observed.filter((server) => server.offline).map((server) => server.serverId));
    const events: Array<{ row: AlertRow; event: AlertEvent }> = [];
    const writes = { deletes: [] as string[], updates: [] as AlertRow[], inserts: [] as AlertRow[] };
    let seen = 0;

    for (const signal of [...signals, ...vanishedSignals(current, signals, observed)]) {
      seen += 1;
      const existing = byFingerprint.get(signal.fingerprint);
      const transition = nextAlertState(existing, signal, {
        serverOffline: offline.has(signal.serverId),
        now,
      });
      if (transition.kind === "none") continue;
      if (transition.kind === "delete") {
        if (existing) writes.deletes.push(existing.id);
        continue;
      }
      const row = transition.row;
      if (row.id) {
        if (!existing || !unchanged(existing, row)) writes.updates.push(row);
      } else {
        writes.inserts.push(row);
      }
      if (transition.event) events.push({ row, event: transition.event });
    }
    const inserted = await writeAlertChanges(tx, writes);
    for (const { row } of events) if (!row.id) row.id = inserted.get(row.fingerprint) ?? "";

    const notifications = await dispatchNotifications(tx, {
      now,
      policy: input.notify ?? immediateNotificationPolicy,
    });
    return { servers: observed.length, signals: seen, events: events.length, notifications };
  });
}

/** The built-in rules' signals for one server, with the thresholds its tags select. */
function builtinSignals(
  server: ServerObservation,
  thresholdsFor: ThresholdResolver,
  now: Date,
): AlertSignal[] {
  const settings = thresholdsFor(server.tags);
  return [
    ...agentCheckSignals(server, settings),
    ...backupFreshnessSignals(server, settings, now),
    agentOfflineSignal(server, settings),
    ...diskSignals(server, settings),
    ...hostCheckSignals(server, settings, now),
  ];
}

/** What a resolved alert's summary adds when its subject is gone rather than fine. */
const VANISHED_NOTE: Readonly<Record<string, string>> = {
  [DISK_USED_RULE]: " (mount no longer reported)",
  [RESTART_LOOP_RULE]: " (no longer restarting)",
  "builtin:inodes_used": " (mount no longer reported)",
  "builtin:instance_containers": " (instance stopped on purpose or removed)",
  "builtin:instance_web": " (instance stopped on purpose or removed)",
  "builtin:instance_realtime": " (instance stopped on purpose or removed)",
  "builtin:instance_cron": " (instance stopped on purpose or removed)",
  "builtin:instance_mail": " (instance stopped on purpose or removed)",
  [BACKUP_FRESHNESS_RULE]: " (no longer scheduled)",
};

/**
 * Alerts still open whose signal did not come this cycle: a mount that is gone, or a server that
 * no longer matches a rule's selector. While the server reports samples they count as recovered
 * (they resolve); without fresh data they are held as they are.
 */
function vanishedSignals(
  current: readonly AlertRow[],
  signals: readonly AlertSignal[],
  observed: readonly ServerObservation[],
): AlertSignal[] {
  const present = new Set(signals.map((signal) => signal.fingerprint));
  const sampled = new Set(observed.filter((server) => server.sample).map((server) => server.serverId));
  return current
    .filter((row) => row.state !== "resolved" && !present.has(row.fingerprint))
    .map((row) => ({
      fingerprint: row.fingerprint,
      ruleKey: row.ruleKey,
      ruleName: row.ruleName,
      serverId: row.serverId,
      labels: row.labels,
      severity: row.severity as AlertSignal["severity"],
      value: row.value,
      threshold: row.threshold,
      active: false,
      recovered: true,
      noData: !sampled.has(row.serverId),
      dependent: row.ruleKey !== AGENT_OFFLINE_RULE,
      describe: () => ({
        summary: `${row.summary}${VANISHED_NOTE[row.ruleKey] ?? ""}`,
        action: row.action,
      }),
      timing: { forMs: 0, keepFiringForMs: 0 },
    }));
}
