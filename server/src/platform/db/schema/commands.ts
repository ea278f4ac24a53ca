import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  customType,
  index,
  integer,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";
import { servers } from "./servers.js";

/** Raw bytes (postgres.js answers Buffer, PGlite Uint8Array; both are Uint8Array). */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => "bytea",
  toDriver: (value) =>
    Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.length),
  fromDriver: (value) => new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
});

export const COMMAND_STATES = [
  "queued",
  "sent",
  "running",
  "succeeded",
  "failed",
  "timed_out",
  "cancelled",
] as const;

/**
 * One command for one server's agent: its typed spec (protobuf type name + binary message), its
 * state (queued → sent → running → succeeded | failed | timed_out | cancelled), who asked, and
 * how it ended. Output chunks live in command_output.
 */
export const commands = pgTable(
  "commands",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    serverId: uuid("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    specType: text("spec_type").notNull(),
    spec: bytea("spec").notNull(),
    state: text("state").notNull().default("queued"),
    deadline: timestamp("deadline", { withTimezone: true }).notNull(),
    actorKind: text("actor_kind").notNull(),
    actorId: text("actor_id"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp("sent_at", { withTimezone: true }),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    exitCode: integer("exit_code").notNull().default(0),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    resultType: text("result_type"),
    result: bytea("result"),
    outputChunks: bigint("output_chunks", { mode: "number" }).notNull().default(0),
    outputBytes: bigint("output_bytes", { mode: "number" }).notNull().default(0),
  },
  (table) => [
    check(
      "commands_state",
      sql`${table.state} in ('queued', 'sent', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled')`,
    ),
    check("commands_actor_kind", sql`${table.actorKind} in ('user', 'api_token', 'system')`),
    index("commands_server_created").on(table.serverId, table.createdAt.desc(), table.id.desc()),
    index("commands_open_deadline")
      .on(table.deadline)
      .where(sql`${table.state} in ('queued', 'sent', 'running')`),
  ],
);

/** A command's output, one row per chunk; (command_id, sequence) stores each chunk once. */
export const commandOutput = pgTable(
  "command_output",
  {
    commandId: uuid("command_id")
      .notNull()
      .references(() => commands.id, { onDelete: "cascade" }),
    sequence: bigint("sequence", { mode: "number" }).notNull(),
    /** 1 stdout, 2 stderr, 3 progress (ocore.agent.v1.OutputStream). */
    stream: smallint("stream").notNull(),
    data: bytea("data").notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.commandId, table.sequence] }),
    check("command_output_stream", sql`${table.stream} between 1 and 3`),
  ],
);
