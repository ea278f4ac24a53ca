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
  /** Fired again and again lately: told once, then held until it calms down. */
  readonly flapping: boolean;
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
  /** A reminder of alerts still firing (repeat interval), not a change. */
  readonly repeat: boolean;
  readonly alerts: readonly NotifiedAlert[];
  readonly createdAt: string;
}

/**
 * The message of one group flush (see grouping/plan-group.ts): the server's alerts that started
 * firing or got worse, and those that resolved, in one message. Its status is "firing" when any
 * alert in it fires, else "resolved". The idempotency key hashes the group, the flush's number
 * and what it tells, so it is the same on every attempt and replica and differs for a repeat.
 */
export function groupMessage(
  flush: {
    readonly seq: number;
    readonly kind: "change" | "repeat";
    readonly firing: readonly AlertRow[];
    readonly resolved: readonly AlertRow[];
    readonly flapping: readonly string[];
  },
  server: { readonly id: string; readonly name: string },
  now: Date,
): NotificationMessage {
  const status: AlertEvent = flush.firing.length > 0 ? "firing" : "resolved";
  const rows = [...flush.firing, ...flush.resolved];
  const groupKey = `server:${server.id}`;
  const identity = rows.map((row) => `${row.fingerprint}#${row.episode}:${row.severity}:${row.state}`);
  const idempotencyKey = createHash("sha256")
    .update([groupKey, String(flush.seq), flush.kind, ...identity].join("\n"))
    .digest("hex")
    .slice(0, 40);
  const flapping = new Set(flush.flapping);
  return {
    version: 1,
    idempotencyKey,
    status,
    groupKey,
    title: titleOf(flush, server.name),
    server: { id: server.id, name: server.name },
    repeat: flush.kind === "repeat",
    alerts: [
      ...flush.firing.map((row) => notifiedAlert(row, "firing", flapping.has(row.fingerprint))),
      ...flush.resolved.map((row) => notifiedAlert(row, "resolved", false)),
    ],
    createdAt: now.toISOString(),
  };
}

function titleOf(
  flush: {
    readonly kind: string;
    readonly firing: readonly AlertRow[];
    readonly resolved: readonly AlertRow[];
  },
  serverName: string,
): string {
  const { firing, resolved } = flush;
  const lost = (rows: readonly AlertRow[]) => rows.some((row) => row.ruleKey === AGENT_OFFLINE_RULE);
  if (flush.kind === "repeat") {
    const first = firing[0]?.summary ?? "";
    return firing.length === 1
      ? `[STILL FIRING] ${first}`
      : `[STILL FIRING] ${serverName}: ${firing.length} alerts (${first}, …)`;
  }
  if (firing.length === 0) {
    if (lost(resolved)) return `[RESOLVED] host ${serverName} is back`;
    const first = resolved[0]?.summary ?? "";
    return resolved.length === 1
      ? `[RESOLVED] ${first}`
      : `[RESOLVED] ${serverName}: ${resolved.length} alerts (${first}, …)`;
  }
  if (lost(firing)) return `[FIRING] host ${serverName} lost`;
  const first = firing[0]?.summary ?? "";
  const also = resolved.length > 0 ? `; ${resolved.length} resolved` : "";
  return firing.length === 1
    ? `[FIRING] ${first}${also}`
    : `[FIRING] ${serverName}: ${firing.length} alerts (${first}, …)${also}`;
}

function notifiedAlert(row: AlertRow, status: AlertEvent, flapping: boolean): NotifiedAlert {
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
    endsAt: status === "resolved" ? (row.resolvedAt ?? row.updatedAt).toISOString() : null,
    action: row.action,
    flapping,
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
    repeat: false,
    alerts: [],
    createdAt: now.toISOString(),
  };
}
