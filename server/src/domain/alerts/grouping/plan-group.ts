import type { FlapHistory, ToldAlert } from "../../../platform/db/schema/alert-notify.js";
import type { AlertRow } from "../alert-transition.js";
import type { NotificationPolicy } from "./notification-policy.js";

/** What the dispatcher keeps per group between cycles (a row of alert_notify_groups). */
export interface GroupState {
  readonly told: Readonly<Record<string, ToldAlert>>;
  readonly flaps: Readonly<Record<string, FlapHistory>>;
  readonly changeSince: Date | null;
  readonly lastFlushAt: Date | null;
  readonly lastFiringSentAt: Date | null;
  readonly seq: number;
}

export const emptyGroupState: GroupState = {
  told: {},
  flaps: {},
  changeSince: null,
  lastFlushAt: null,
  lastFiringSentAt: null,
  seq: 0,
};

/** One alert of the group as the dispatcher sees it. */
export interface GroupAlert {
  readonly row: AlertRow;
  /** A silence or maintenance window covers it now. */
  readonly muted: boolean;
  /** Someone acknowledged its current episode. */
  readonly acknowledged: boolean;
}

/** A message to send: what started firing (or got worse) and what resolved, or a repeat. */
export interface GroupFlush {
  readonly seq: number;
  readonly kind: "change" | "repeat";
  readonly firing: readonly AlertRow[];
  readonly resolved: readonly AlertRow[];
  /** Fingerprints of the firing alerts that are flapping (told once, then held). */
  readonly flapping: readonly string[];
}

export interface GroupPlan {
  readonly state: GroupState;
  readonly flush: GroupFlush | undefined;
}

/**
 * One group's notification decision in one cycle, as a pure function of what it told before and
 * the alerts as they are now:
 *
 * - Told alerts are compared with their rows: firing in another episode or severity is a change
 *   to tell (firing), resolved (or pending again) is a change to tell (resolved), a row that is
 *   gone (its rule was deleted) is forgotten silently.
 * - Held, so neither told nor resolved: muted alerts (silence, maintenance), alerts inhibited by
 *   their host being lost (the agent-offline alert firing), unreachable ones, and told alerts
 *   that are flapping (fired `flapThreshold` times within `flapWindowMs`): they stay as told
 *   until they calm down.
 * - Changes wait: `groupWait` from the first change while nothing firing is told, else
 *   `groupInterval` after the last message; then they go out together in one message.
 * - Otherwise, every `repeatInterval` the told alerts still firing, unacknowledged and neither
 *   muted nor flapping are told again.
 */
export function planGroup(input: {
  readonly state: GroupState;
  readonly alerts: readonly GroupAlert[];
  readonly inhibitorRuleKey: string;
  readonly policy: NotificationPolicy;
  readonly now: Date;
}): GroupPlan {
  const { policy, now } = input;
  const at = now.getTime();
  const byFingerprint = new Map(input.alerts.map((alert) => [alert.row.fingerprint, alert]));
  const flaps = trackFlaps(input.state.flaps, input.alerts, policy, now);
  const flapping = (fingerprint: string) =>
    policy.flapThreshold > 0 && (flaps[fingerprint]?.firings.length ?? 0) >= policy.flapThreshold;
  const hostLost = input.alerts.some(
    (alert) => alert.row.ruleKey === input.inhibitorRuleKey && alert.row.state === "firing",
  );
  const held = (alert: GroupAlert) =>
    alert.muted ||
    alert.row.state === "unreachable" ||
    (hostLost && alert.row.ruleKey !== input.inhibitorRuleKey);

  const told: Record<string, ToldAlert> = {};
  const firing: AlertRow[] = [];
  const resolved: AlertRow[] = [];
  for (const [fingerprint, was] of Object.entries(input.state.told)) {
    const alert = byFingerprint.get(fingerprint);
    if (!alert) continue;
    const { row } = alert;
    if (held(alert) || flapping(fingerprint)) {
      told[fingerprint] = was;
    } else if (row.state === "firing") {
      told[fingerprint] = was;
      if (row.episode !== was.episode || row.severity !== was.severity) firing.push(row);
    } else {
      told[fingerprint] = was;
      resolved.push(row);
    }
  }
  for (const alert of input.alerts) {
    const { row } = alert;
    if (row.state !== "firing" || input.state.told[row.fingerprint] || held(alert)) continue;
    firing.push(row);
  }

  const changed = firing.length + resolved.length > 0;
  const changeSince = changed ? (input.state.changeSince ?? now) : null;
  const nothingTold = Object.keys(input.state.told).length === 0;
  const due =
    changed &&
    (nothingTold || input.state.lastFlushAt === null
      ? at - (changeSince as Date).getTime() >= policy.groupWaitMs
      : at - input.state.lastFlushAt.getTime() >= policy.groupIntervalMs);

  if (due) {
    for (const row of firing) told[row.fingerprint] = { episode: row.episode, severity: row.severity };
    for (const row of resolved) delete told[row.fingerprint];
    const seq = input.state.seq + 1;
    return {
      state: {
        told,
        flaps,
        changeSince: null,
        lastFlushAt: now,
        lastFiringSentAt: firing.length > 0 ? now : input.state.lastFiringSentAt,
        seq,
      },
      flush: {
        seq,
        kind: "change",
        firing: sortRows(firing),
        resolved: sortRows(resolved),
        flapping: firing.filter((row) => flapping(row.fingerprint)).map((row) => row.fingerprint),
      },
    };
  }

  const base: GroupState = { ...input.state, told, flaps, changeSince };
  const last = input.state.lastFiringSentAt;
  if (policy.repeatIntervalMs > 0 && last && at - last.getTime() >= policy.repeatIntervalMs) {
    const again = Object.keys(told).flatMap((fingerprint) => {
      const alert = byFingerprint.get(fingerprint);
      if (!alert) return [];
      const quiet = alert.row.state !== "firing" || alert.acknowledged || held(alert);
      return quiet || flapping(fingerprint) ? [] : [alert.row];
    });
    if (again.length > 0) {
      const seq = input.state.seq + 1;
      return {
        state: { ...base, lastFiringSentAt: now, seq },
        flush: { seq, kind: "repeat", firing: sortRows(again), resolved: [], flapping: [] },
      };
    }
  }
  return { state: base, flush: undefined };
}

/**
 * Adds each firing alert's new episode to its flap history and forgets firings older than the
 * window (and alerts with none left that are not firing).
 */
function trackFlaps(
  previous: Readonly<Record<string, FlapHistory>>,
  alerts: readonly GroupAlert[],
  policy: NotificationPolicy,
  now: Date,
): Record<string, FlapHistory> {
  if (policy.flapThreshold <= 0) return {};
  const since = now.getTime() - policy.flapWindowMs;
  const next: Record<string, FlapHistory> = {};
  const rows = new Map(alerts.map((alert) => [alert.row.fingerprint, alert.row]));
  for (const fingerprint of new Set([...Object.keys(previous), ...rows.keys()])) {
    const row = rows.get(fingerprint);
    const history = previous[fingerprint];
    let firings = (history?.firings ?? []).filter((time) => Date.parse(time) > since);
    let episode = history?.episode ?? 0;
    if (row && row.state === "firing" && row.episode > episode) {
      firings = [...firings, now.toISOString()];
      episode = row.episode;
    }
    if (firings.length > 0 || (row && row.state !== "resolved")) next[fingerprint] = { episode, firings };
  }
  return next;
}

function sortRows(rows: readonly AlertRow[]): AlertRow[] {
  return [...rows].sort((a, b) => a.fingerprint.localeCompare(b.fingerprint));
}
