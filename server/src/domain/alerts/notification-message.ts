import { createHash } from "node:crypto";
import type { AlertEvent, AlertRow } from "./alert-transition.js";
import { AGENT_OFFLINE_RULE } from "./builtin-signals.js";

/** One alert inside a notification, as the webhook payload documents it. */
export interface NotifiedAlert {
  readonly fingerprint: string;
  readonly rule: string;
  readonly severity: string;
  readonly status: AlertEvent;
  readonly summary: string;
  readonly value: number | null;
  readonly threshold: number | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly startsAt: string | null;
  readonly endsAt: string | null;
  readonly action: string;
}

/**
 * A notification, the same for every channel (the webhook sends it as its JSON body; e-mail
 * renders it as text). `idempotencyKey` is the same for every attempt and every replica, so a
 * receiver that saw a key already can drop a repeat.
 */
export interface NotificationMessage {
  readonly version: 1;
  readonly idempotencyKey: string;
  readonly status: AlertEvent | "test";
  readonly groupKey: string;
  readonly title: string;
  readonly server: { readonly id: string; readonly name: string } | null;
  readonly alerts: readonly NotifiedAlert[];
  readonly createdAt: string;
}

/**
 * Groups one cycle's events by server and status: one message per server for what started
 * firing, one for what resolved. A lost host therefore gives one message (its dependent alerts
 * are held as unreachable and have no events).
 */
export function groupNotifications(
  events: ReadonlyArray<{ readonly row: AlertRow; readonly event: AlertEvent }>,
  serverNames: ReadonlyMap<string, string>,
  now: Date,
): NotificationMessage[] {
  const groups = new Map<string, { serverId: string; status: AlertEvent; rows: AlertRow[] }>();
  for (const { row, event } of events) {
    const key = `${row.serverId}/${event}`;
    const group = groups.get(key) ?? { serverId: row.serverId, status: event, rows: [] };
    group.rows.push(row);
    groups.set(key, group);
  }
  return [...groups.values()].map(({ serverId, status, rows }) => {
    const sorted = [...rows].sort((a, b) => a.fingerprint.localeCompare(b.fingerprint));
    const name = serverNames.get(serverId) ?? serverId;
    const identity = sorted.map((row) => `${row.fingerprint}#${row.episode}:${row.severity}`);
    const idempotencyKey = createHash("sha256")
      .update([status, serverId, ...identity].join("\n"))
      .digest("hex")
      .slice(0, 40);
    return {
      version: 1,
      idempotencyKey,
      status,
      groupKey: `server:${serverId}`,
      title: titleOf(status, name, sorted),
      server: { id: serverId, name },
      alerts: sorted.map((row) => notifiedAlert(row, status)),
      createdAt: now.toISOString(),
    };
  });
}

function titleOf(status: AlertEvent, serverName: string, rows: readonly AlertRow[]): string {
  const tag = status === "firing" ? "FIRING" : "RESOLVED";
  const lost = rows.some((row) => row.ruleKey === AGENT_OFFLINE_RULE);
  if (lost)
    return status === "firing" ? `[${tag}] host ${serverName} lost` : `[${tag}] host ${serverName} is back`;
  const first = rows[0]?.summary ?? "";
  return rows.length === 1
    ? `[${tag}] ${first}`
    : `[${tag}] ${serverName}: ${rows.length} alerts (${first}, …)`;
}

function notifiedAlert(row: AlertRow, status: AlertEvent): NotifiedAlert {
  return {
    fingerprint: row.fingerprint,
    rule: row.ruleName,
    severity: row.severity,
    status,
    summary: row.summary,
    value: row.value,
    threshold: row.threshold,
    labels: row.labels,
    startsAt: row.firingSince?.toISOString() ?? null,
    endsAt: row.resolvedAt?.toISOString() ?? null,
    action: row.action,
  };
}

/** The message a channel's "send a test" action sends. */
export function testMessage(channelName: string, now: Date, nonce: string): NotificationMessage {
  return {
    version: 1,
    idempotencyKey: `test-${nonce}`,
    status: "test",
    groupKey: "test",
    title: `[TEST] oCore notification channel "${channelName}" works`,
    server: null,
    alerts: [],
    createdAt: now.toISOString(),
  };
}
