import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
  uuid,
} from "drizzle-orm/pg-core";
import { servers } from "./servers.js";

/**
 * A user rule on a stored metric: fires when the newest sample of a server matching `selector`
 * compares to `threshold` for `forSeconds`, and resolves once the value is back past
 * `recoveryThreshold` (hysteresis; the threshold itself when null) for `keepFiringForSeconds`.
 * The built-in rules (agent offline, disk used per mount) are code with settings, not rows.
 */
export const alertRules = pgTable(
  "alert_rules",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull().unique(),
    metric: text("metric").notNull(),
    selector: text("selector").notNull().default(""),
    comparison: text("comparison").notNull(),
    threshold: doublePrecision("threshold").notNull(),
    recoveryThreshold: doublePrecision("recovery_threshold"),
    forSeconds: integer("for_seconds").notNull(),
    keepFiringForSeconds: integer("keep_firing_for_seconds").notNull(),
    severity: text("severity").notNull(),
    description: text("description").notNull().default(""),
    createdBy: text("created_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    check("alert_rules_comparison", sql`${table.comparison} in ('>', '>=', '<', '<=')`),
    check("alert_rules_severity", sql`${table.severity} in ('warning', 'critical')`),
  ],
);

export type AlertState = "pending" | "firing" | "unreachable" | "resolved";

/**
 * One alert per fingerprint (rule + server + labels), holding its current episode: pending while
 * its condition has held for less than `for`, firing, unreachable while its server is offline
 * (it notifies nothing then), resolved. No row, or a resolved one, is "inactive". `episode`
 * counts firings; with the state it makes each notification's idempotency key.
 */
export const alerts = pgTable(
  "alerts",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    fingerprint: text("fingerprint").notNull().unique(),
    ruleKey: text("rule_key").notNull(),
    ruleName: text("rule_name").notNull(),
    serverId: uuid("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    labels: jsonb("labels").$type<Record<string, string>>().notNull().default({}),
    state: text("state").$type<AlertState>().notNull(),
    severity: text("severity").notNull(),
    value: doublePrecision("value"),
    threshold: doublePrecision("threshold"),
    summary: text("summary").notNull(),
    action: text("action").notNull(),
    episode: integer("episode").notNull().default(0),
    pendingSince: timestamp("pending_since", { withTimezone: true }).notNull(),
    firingSince: timestamp("firing_since", { withTimezone: true }),
    /** When the firing notification of this episode went out (null: nobody was told yet). */
    notifiedAt: timestamp("notified_at", { withTimezone: true }),
    /** Since when a firing alert's value has been back past its recovery threshold. */
    clearSince: timestamp("clear_since", { withTimezone: true }),
    resolvedAt: timestamp("resolved_at", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
  },
  (table) => [
    index("alerts_server").on(table.serverId),
    check("alerts_state", sql`${table.state} in ('pending', 'firing', 'unreachable', 'resolved')`),
  ],
);

/**
 * Where notifications go. `config` holds what may be shown (SMTP host, recipients, webhook URL);
 * the secret (SMTP password, webhook signing secret) is only ever stored sealed.
 */
export const alertChannels = pgTable(
  "alert_channels",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull().unique(),
    kind: text("kind").notNull(),
    config: jsonb("config").$type<Record<string, unknown>>().notNull(),
    sealedSecret: text("sealed_secret"),
    enabled: boolean("enabled").notNull().default(true),
    /** Routing: only alerts of servers whose tags match (empty: all servers). */
    routeSelector: text("route_selector").notNull().default(""),
    /** Routing: only alerts at least this severe (warning: all). */
    minSeverity: text("min_severity").notNull().default("warning"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    check("alert_channels_min_severity", sql`${table.minSeverity} in ('warning', 'critical')`),
    check(
      "alert_channels_kind",
      sql`${table.kind} in ('email', 'webhook', 'slack', 'discord', 'teams', 'telegram', 'ntfy', 'pagerduty')`,
    ),
  ],
);

export type OutboxStatus = "pending" | "delivering" | "delivered" | "failed";

/**
 * The durable outbox: one row per notification per channel, written in the transaction that
 * changed the alerts. A worker claims due rows (SKIP LOCKED, with a lease), sends, and marks
 * the row delivered in the transaction that ends its lease; a failure schedules the next
 * attempt with exponential backoff. `seq` orders rows of one group on one channel.
 */
export const alertNotifications = pgTable(
  "alert_notifications",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    seq: bigserial("seq", { mode: "number" }).notNull(),
    channelId: uuid("channel_id")
      .notNull()
      .references(() => alertChannels.id, { onDelete: "cascade" }),
    idempotencyKey: text("idempotency_key").notNull(),
    groupKey: text("group_key").notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    status: text("status").$type<OutboxStatus>().notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull(),
    leaseOwner: text("lease_owner"),
    leaseExpiresAt: timestamp("lease_expires_at", { withTimezone: true }),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
    lastError: text("last_error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (table) => [
    unique("alert_notifications_once").on(table.channelId, table.idempotencyKey),
    index("alert_notifications_due")
      .on(table.nextAttemptAt)
      .where(sql`${table.status} in ('pending', 'delivering')`),
    check(
      "alert_notifications_status",
      sql`${table.status} in ('pending', 'delivering', 'delivered', 'failed')`,
    ),
  ],
);

/** Every delivery attempt (and test send) of a channel: the channel's delivery log. */
export const alertDeliveries = pgTable(
  "alert_deliveries",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    channelId: uuid("channel_id")
      .notNull()
      .references(() => alertChannels.id, { onDelete: "cascade" }),
    notificationId: uuid("notification_id"),
    attempt: integer("attempt").notNull(),
    outcome: text("outcome").notNull(),
    summary: text("summary").notNull(),
    error: text("error"),
    durationMs: bigint("duration_ms", { mode: "number" }).notNull(),
    at: timestamp("at", { withTimezone: true }).notNull(),
  },
  (table) => [
    index("alert_deliveries_channel").on(table.channelId, table.id),
    check("alert_deliveries_outcome", sql`${table.outcome} in ('delivered', 'failed', 'gave_up')`),
  ],
);

/** Named leases for work one replica does at a time (the alert evaluation cycle). */
export const alertLeases = pgTable("alert_leases", {
  name: text("name").primaryKey(),
  owner: text("owner").notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
});
