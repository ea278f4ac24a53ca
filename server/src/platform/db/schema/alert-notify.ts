import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { alerts } from "./alerts.js";
import { servers } from "./servers.js";

/** What a group last told its channels about one alert: its episode and severity then. */
export type ToldAlert = { readonly episode: number; readonly severity: string };

/** The recent firings of one alert, for flap detection (ISO times, newest last). */
export type FlapHistory = { readonly episode: number; readonly firings: readonly string[] };

/**
 * One notification group per server (Alertmanager's aggregation group): which of its alerts its
 * channels were told are firing, when something new started waiting to be told (group wait,
 * group interval), when the last message and the last firing message went out (repeat
 * interval), and the recent firings of each alert (flap detection). `seq` numbers the group's
 * messages, so each has its own idempotency key, repeats included.
 */
export const alertNotifyGroups = pgTable("alert_notify_groups", {
  groupKey: text("group_key").primaryKey(),
  serverId: uuid("server_id")
    .notNull()
    .references(() => servers.id, { onDelete: "cascade" }),
  told: jsonb("told").$type<Record<string, ToldAlert>>().notNull().default({}),
  flaps: jsonb("flaps").$type<Record<string, FlapHistory>>().notNull().default({}),
  changeSince: timestamp("change_since", { withTimezone: true }),
  lastFlushAt: timestamp("last_flush_at", { withTimezone: true }),
  lastFiringSentAt: timestamp("last_firing_sent_at", { withTimezone: true }),
  seq: integer("seq").notNull().default(0),
});

export type SilenceKind = "silence" | "maintenance";

/**
 * A silence mutes the alerts its matchers all match (rule, server, tag selector) between
 * `startsAt` and `endsAt`: they are neither announced nor repeated. A maintenance window is a
 * silence for whole servers (by server or selector), usually scheduled ahead. Ending one early
 * sets `endsAt` to that moment and `endedBy`.
 */
export const alertSilences = pgTable(
  "alert_silences",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    kind: text("kind").$type<SilenceKind>().notNull(),
    ruleKey: text("rule_key"),
    serverId: uuid("server_id").references(() => servers.id, { onDelete: "cascade" }),
    selector: text("selector").notNull().default(""),
    startsAt: timestamp("starts_at", { withTimezone: true }).notNull(),
    endsAt: timestamp("ends_at", { withTimezone: true }).notNull(),
    comment: text("comment").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    endedBy: text("ended_by"),
  },
  (table) => [
    index("alert_silences_ends").on(table.endsAt),
    check("alert_silences_kind", sql`${table.kind} in ('silence', 'maintenance')`),
    check("alert_silences_window", sql`${table.endsAt} > ${table.startsAt}`),
  ],
);

/**
 * An acknowledgement of one alert's current episode: someone is on it, so it is not repeated.
 * A new episode (it resolved and fired again) is not covered.
 */
export const alertAcknowledgements = pgTable("alert_acknowledgements", {
  alertId: uuid("alert_id")
    .primaryKey()
    .references(() => alerts.id, { onDelete: "cascade" }),
  episode: integer("episode").notNull(),
  by: text("by").notNull(),
  comment: text("comment").notNull(),
  at: timestamp("at", { withTimezone: true }).notNull(),
});
