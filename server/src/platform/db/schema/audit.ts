import { bigint, index, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * The audit log: append-only (a trigger refuses UPDATE, DELETE and TRUNCATE) and hash-chained.
 * `id` is gapless (previous id + 1, assigned under a lock) and every `hash` covers the entry's
 * fields and the previous entry's hash, so a changed, removed or inserted row breaks the chain.
 * before/after are stored as the exact JSON text that was hashed.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigint("id", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull(),
    actorType: text("actor_type").notNull(),
    actorId: text("actor_id").notNull(),
    actorName: text("actor_name").notNull(),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id").notNull(),
    beforeJson: text("before_json").notNull(),
    afterJson: text("after_json").notNull(),
    sourceIp: text("source_ip").notNull(),
    userAgent: text("user_agent").notNull(),
    result: text("result").notNull(),
    detail: text("detail").notNull(),
    previousHash: text("previous_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (table) => [
    index("audit_log_at").on(table.at),
    index("audit_log_action").on(table.action),
    index("audit_log_target").on(table.targetId),
    index("audit_log_actor").on(table.actorId),
  ],
);
