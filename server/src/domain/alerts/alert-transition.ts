import type { AlertState, alerts } from "../../platform/db/schema/alerts.js";
import type { AlertSignal } from "./alert-types.js";

export type AlertRow = typeof alerts.$inferSelect;

/** A notification-worthy change: an alert started firing (or got worse), or resolved. */
export type AlertEvent = "firing" | "resolved";

/** What to do with an alert's row after one evaluation. */
export type Transition =
  | { readonly kind: "none" }
  | { readonly kind: "delete" }
  | { readonly kind: "upsert"; readonly row: AlertRow; readonly event: AlertEvent | undefined };

const none: Transition = { kind: "none" };

/**
 * The alert lifecycle for one fingerprint, as a pure function of its current row, this cycle's
 * signal and whether the server is offline:
 *
 *   inactive ─active─▶ pending ─held `for`─▶ firing ─recovered `keep_firing_for`─▶ resolved
 *   pending ─not active─▶ inactive (row deleted, nobody told)
 *   pending/firing ─server offline (dependent rules)─▶ unreachable (nobody told)
 *   unreachable ─back─▶ firing (still bad, was told) | pending (still bad, not told) |
 *                       resolved (recovered, was told) | inactive (recovered, not told)
 *
 * Firing and resolved notify; a firing alert that goes from warning to critical notifies again.
 */
export function nextAlertState(
  current: AlertRow | undefined,
  signal: AlertSignal,
  context: { readonly serverOffline: boolean; readonly now: Date },
): Transition {
  const { now } = context;
  const live = current && current.state !== "resolved" ? current : undefined;
  if (signal.dependent && context.serverOffline) {
    if (!live || live.state === "unreachable") return none;
    return upsert(live, signal, now, { state: "unreachable", clearSince: null }, undefined);
  }
  if (signal.noData) return none;

  if (!live) {
    if (!signal.active) return none;
    const fresh = startPending(current, signal, now);
    return signal.timing.forMs <= 0
      ? fire(fresh, signal, now)
      : { kind: "upsert", row: fresh, event: undefined };
  }

  switch (live.state) {
    case "pending":
      if (!signal.active) return { kind: "delete" };
      if (now.getTime() - live.pendingSince.getTime() >= signal.timing.forMs) return fire(live, signal, now);
      return upsert(live, signal, now, {}, undefined);
    case "firing": {
      if (signal.recovered) {
        const clearSince = live.clearSince ?? now;
        if (now.getTime() - clearSince.getTime() >= signal.timing.keepFiringForMs)
          return resolve(live, signal, now);
        return upsert(live, signal, now, { clearSince }, undefined);
      }
      const worse = live.severity === "warning" && signal.severity === "critical";
      // Between the thresholds a firing alert keeps its severity: it only ever escalates while firing.
      const severity = worse || signal.active ? signal.severity : live.severity;
      return upsert(live, signal, now, { clearSince: null, severity }, worse ? "firing" : undefined);
    }
    case "unreachable":
      if (signal.recovered) return live.notifiedAt ? resolve(live, signal, now) : { kind: "delete" };
      if (live.notifiedAt) return upsert(live, signal, now, { state: "firing", clearSince: null }, undefined);
      if (signal.active) return { kind: "upsert", row: startPending(live, signal, now), event: undefined };
      return { kind: "delete" };
    case "resolved":
      return none;
  }
}

function startPending(previous: AlertRow | undefined, signal: AlertSignal, now: Date): AlertRow {
  return {
    id: previous?.id ?? "",
    fingerprint: signal.fingerprint,
    ruleKey: signal.ruleKey,
    ruleName: signal.ruleName,
    serverId: signal.serverId,
    labels: { ...signal.labels },
    state: "pending",
    severity: signal.severity,
    value: signal.value,
    threshold: signal.threshold,
    ...signal.describe(),
    episode: previous?.episode ?? 0,
    pendingSince: now,
    firingSince: null,
    notifiedAt: null,
    clearSince: null,
    resolvedAt: null,
    updatedAt: now,
  };
}

function fire(row: AlertRow, signal: AlertSignal, now: Date): Transition {
  return upsert(
    row,
    signal,
    now,
    { state: "firing", episode: row.episode + 1, firingSince: now, notifiedAt: now, clearSince: null },
    "firing",
  );
}

function resolve(row: AlertRow, signal: AlertSignal, now: Date): Transition {
  const told = row.notifiedAt !== null;
  return upsert(
    row,
    signal,
    now,
    { state: "resolved", resolvedAt: now, clearSince: null },
    told ? "resolved" : undefined,
  );
}

function upsert(
  row: AlertRow,
  signal: AlertSignal,
  now: Date,
  changes: Partial<AlertRow> & { state?: AlertState },
  event: AlertEvent | undefined,
): Transition {
  return {
    kind: "upsert",
    row: {
      ...row,
      severity: signal.severity,
      value: signal.value ?? row.value,
      threshold: signal.threshold,
      ...signal.describe(),
      ruleName: signal.ruleName,
      ...changes,
      updatedAt: now,
    },
    event,
  };
}
