import { sql } from "drizzle-orm";
import {
  bigserial,
  check,
  doublePrecision,
  index,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";
import { servers } from "./servers.js";

/**
 * The newest result of each check an agent runs on its host (docker, docker_start, sshd, inodes
 * per mount, odoo_containers/odoo_web/odoo_realtime per instance): one row per (server, key, subject), replaced each check cycle. `state` is what the
 * server judged (the agent's state, or the inode thresholds'); `since` is when it entered it.
 */
export const hostCheckResults = pgTable(
  "host_check_results",
  {
    serverId: uuid("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    subject: text("subject").notNull().default(""),
    state: text("state").notNull(),
    value: doublePrecision("value"),
    message: text("message").notNull(),
    since: timestamp("since", { withTimezone: true }).notNull(),
    checkedAt: timestamp("checked_at", { withTimezone: true }).notNull(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.serverId, table.key, table.subject] }),
    check("host_check_results_state", sql`${table.state} in ('ok', 'warning', 'critical', 'unknown')`),
  ],
);

/** Each change of a check's state (bounded: the newest per check are kept, see record-host-checks.ts). */
export const hostCheckChanges = pgTable(
  "host_check_changes",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    serverId: uuid("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    subject: text("subject").notNull().default(""),
    fromState: text("from_state").notNull().default(""),
    toState: text("to_state").notNull(),
    message: text("message").notNull(),
    at: timestamp("at", { withTimezone: true }).notNull(),
  },
  (table) => [index("host_check_changes_server").on(table.serverId, table.key, table.subject, table.id)],
);
