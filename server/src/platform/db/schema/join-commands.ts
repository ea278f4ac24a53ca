import { index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { enrollmentTokens } from "./agent-identity.js";
import { servers } from "./servers.js";

/**
 * Join commands (issue 22): what a host pastes to add itself. The command's secret is the secret
 * of its enrollment token (only its SHA-256 is stored, on that token's row), so expiry and single
 * use are the token's; this row adds what the join script is rendered with and how it went.
 */
export const joinCommands = pgTable(
  "join_commands",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    serverId: uuid("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    enrollmentTokenId: uuid("enrollment_token_id")
      .notNull()
      .unique()
      .references(() => enrollmentTokens.id, { onDelete: "cascade" }),
    /** The base URL the host downloads from and reports to (validated: scheme, host, port). */
    serverUrl: text("server_url").notNull(),
    /** Where the agent goes on the host and its unit's name. */
    installPrefix: text("install_prefix").notNull(),
    unitName: text("unit_name").notNull(),
    acceptedRequirements: jsonb("accepted_requirements").$type<string[]>().notNull().default([]),
    plannedInstances: integer("planned_instances").notNull().default(1),
    createdBy: text("created_by").notNull().default(""),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (table) => [index("join_commands_server").on(table.serverId, table.createdAt)],
);
