import { eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { alertRules, alerts } from "../../platform/db/schema/alerts.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { type AlertEvent, type AlertRow, nextAlertState } from "./alert-transition.js";
import type { AlertSignal, BuiltinRuleSettings } from "./alert-types.js";
import { AGENT_OFFLINE_RULE, agentOfflineSignal, DISK_USED_RULE, diskSignals } from "./builtin-signals.js";
import { dispatchNotifications } from "./grouping/dispatch-notifications.js";
import { immediateNotificationPolicy, type NotificationPolicy } from "./grouping/notification-policy.js";
import { observeServers, type ServerObservation } from "./observe-servers.js";
import { userRuleSignals } from "./user-rule-signals.js";

/** Serializes evaluation cycles across replicas even if two ever overlap (see evaluation-lease.ts). */
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
    const signals = [
      ...observed.flatMap((server) => builtinSignals(server, input.settings)),
      ...rules.flatMap((rule) => userRuleSignals(rule, observed)),
    ];
    const current = await tx
      .select()
      .from(alerts)
      .where(
        inArray(
          alerts.serverId,
          observed.map((server) => server.serverId),
        ),
      );
    const byFingerprint = new Map(current.map((row) => [row.fingerprint, row]));
    const offline = new Set(observed.filter((server) => server.offline).map((server) => server.serverId));
    const events: Array<{ row: AlertRow; event: AlertEvent }> = [];
    const seen = new Set<string>();

    for (const signal of [...signals, ...vanishedSignals(current, signals, observed)]) {
      seen.add(signal.fingerprint);
      const transition = nextAlertState(byFingerprint.get(signal.fingerprint), signal, {
        serverOffline: offline.has(signal.serverId),
        now,
      });
      if (transition.kind === "none") continue;
      const existing = byFingerprint.get(signal.fingerprint);
      if (transition.kind === "delete") {
        if (existing) await tx.delete(alerts).where(eq(alerts.id, existing.id));
        continue;
      }
      const row = await saveAlert(tx, transition.row);
      if (transition.event) events.push({ row, event: transition.event });
    }

    const notifications = await dispatchNotifications(tx, {
      now,
      policy: input.notify ?? immediateNotificationPolicy,
    });
    return { servers: observed.length, signals: seen.size, events: events.length, notifications };
  });
}

function builtinSignals(server: ServerObservation, settings: BuiltinRuleSettings): AlertSignal[] {
  return [agentOfflineSignal(server, settings), ...diskSignals(server, settings)];
}

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
      summary: row.ruleKey === DISK_USED_RULE ? `${row.summary} (mount no longer reported)` : row.summary,
      action: row.action,
      timing: { forMs: 0, keepFiringForMs: 0 },
    }));
}

async function saveAlert(tx: Queryable, row: AlertRow): Promise<AlertRow> {
  const { id, ...values } = row;
  if (id) {
    const [updated] = await tx.update(alerts).set(values).where(eq(alerts.id, id)).returning();
    return updated ?? row;
  }
  const [inserted] = await tx.insert(alerts).values(values).returning();
  return inserted ?? row;
}
