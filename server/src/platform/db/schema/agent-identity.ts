import { index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { servers } from "./servers.js";

/**
 * One-time enrollment tokens. Only the SHA-256 of the token's secret is stored; a token is
 * consumed by setting `used_at` in the same statement that checks it (single use under races).
 */
export const enrollmentTokens = pgTable(
  "enrollment_tokens",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    serverId: uuid("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    secretHash: text("secret_hash").notNull().unique(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index("enrollment_tokens_server").on(table.serverId)],
);

/**
 * Every client certificate the CA issued to an agent. A connecting agent's certificate must be
 * found here (by SHA-256 fingerprint of its DER), unrevoked and unexpired.
 */
export const agentCertificates = pgTable(
  "agent_certificates",
  {
    serial: text("serial").primaryKey(),
    serverId: uuid("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    fingerprint: text("fingerprint").notNull().unique(),
    notAfter: timestamp("not_after", { withTimezone: true }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (table) => [
    index("agent_certificates_server").on(table.serverId),
    index("agent_certificates_revoked").on(table.revokedAt),
  ],
);
