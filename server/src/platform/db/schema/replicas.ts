import { index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { servers } from "./servers.js";

/**
 * The control-server processes of one installation (several on one PostgreSQL; one row on
 * PGlite). Each replica writes its row at start and its heartbeat every few seconds; a row whose
 * heartbeat is older than the presence timeout belongs to a replica that is gone.
 */
export const replicas = pgTable("replicas", {
  id: text("id").primaryKey(),
  /** host:port other replicas dial for the relay (null: this replica does not relay). */
  relayAddress: text("relay_address"),
  hostname: text("hostname").notNull(),
  startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
  heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }).notNull(),
});

/**
 * Which replica holds each connected agent's stream, refreshed with the replica's heartbeat. A
 * row whose heartbeat is stale is ignored (its replica died without removing it).
 */
export const agentPresence = pgTable(
  "agent_presence",
  {
    serverId: uuid("server_id")
      .primaryKey()
      .references(() => servers.id, { onDelete: "cascade" }),
    replicaId: text("replica_id").notNull(),
    connectedAt: timestamp("connected_at", { withTimezone: true }).notNull(),
    heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }).notNull(),
  },
  (table) => [index("agent_presence_replica_idx").on(table.replicaId)],
);

/** Named leases for periodic work one replica does at a time (rollups, retention, …). */
export const leaderLeases = pgTable("leader_leases", {
  name: text("name").primaryKey(),
  owner: text("owner").notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
});
