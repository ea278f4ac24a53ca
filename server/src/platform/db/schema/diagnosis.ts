import { index, integer, jsonb, pgTable, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";

/** A diagnosis conversation (issue 18): one caller's thread of questions. Only its owner reads it. */
export const diagnosisConversations = pgTable(
  "diagnosis_conversations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** "user" or "token", and its id: the principal that owns the conversation. */
    ownerKind: text("owner_kind").notNull(),
    ownerId: text("owner_id").notNull(),
    title: text("title").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
  },
  (table) => [index("diagnosis_conversations_owner").on(table.ownerKind, table.ownerId, table.updatedAt)],
);

/**
 * One question and its report. `input` keeps what was asked about (server ids, window) so a
 * follow-up inherits it; `report` is the deterministic report with its reasoning chain.
 */
export const diagnosisTurns = pgTable(
  "diagnosis_turns",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    conversationId: uuid("conversation_id")
      .notNull()
      .references(() => diagnosisConversations.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    question: text("question").notNull(),
    input: jsonb("input").notNull(),
    report: jsonb("report").notNull(),
    explanation: text("explanation").notNull().default(""),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (table) => [unique("diagnosis_turns_position").on(table.conversationId, table.position)],
);
