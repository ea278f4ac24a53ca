import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";
import { servers } from "./servers.js";
import { users } from "./users.js";

export type SshSessionKind = "shell" | "exec" | "sftp";

/**
 * One SSH session through the gateway (or the web terminal): who, where, as which login, from
 * where, and how it ended. The user and server names are copied so the record outlives both.
 * `recordedUntil` moves on every recorder write (at least every few seconds while the session
 * is open): a session without `endedAt` whose `recordedUntil` is old lost its process, and the
 * sweep (ssh-sessions/sweep-sessions.ts) closes it as "interrupted".
 */
export const sshSessions = pgTable(
  "ssh_sessions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id").references(() => users.id, { onDelete: "set null" }),
    username: text("username").notNull(),
    serverId: uuid("server_id").references(() => servers.id, { onDelete: "set null" }),
    serverName: text("server_name").notNull(),
    login: text("login").notNull(),
    clientAddress: text("client_address").notNull().default(""),
    kind: text("kind").$type<SshSessionKind>().notNull(),
    command: text("command"),
    cols: integer("cols").notNull(),
    rows: integer("rows").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    durationMs: bigint("duration_ms", { mode: "number" }),
    bytesIn: bigint("bytes_in", { mode: "number" }).notNull().default(0),
    bytesOut: bigint("bytes_out", { mode: "number" }).notNull().default(0),
    exitStatus: integer("exit_status"),
    endReason: text("end_reason"),
    /** Whether keystrokes ("i" events) are in the recording (OCORE_SSH_RECORD_INPUT when it began). */
    recordsInput: boolean("records_input").notNull().default(false),
    /** Bytes of asciicast events stored so far (the header excluded). */
    recordingBytes: bigint("recording_bytes", { mode: "number" }).notNull().default(0),
    /** The size limit was reached: the recording stops there and the session was ended. */
    recordingTruncated: boolean("recording_truncated").notNull().default(false),
    recordedUntil: timestamp("recorded_until", { withTimezone: true }).notNull().defaultNow(),
    /** EndSession asked for the end (by whom); the replica holding the session ends it. */
    endRequestedBy: text("end_requested_by"),
  },
  (table) => [
    check("ssh_sessions_kind", sql`${table.kind} in ('shell', 'exec', 'sftp')`),
    index("ssh_sessions_started").on(table.startedAt, table.id),
    index("ssh_sessions_user_started").on(table.userId, table.startedAt),
    index("ssh_sessions_server_started").on(table.serverId, table.startedAt),
    index("ssh_sessions_open").on(table.recordedUntil).where(sql`${table.endedAt} is null`),
  ],
);

/**
 * A session's recording, in the order written: `events` holds whole asciicast v2 event lines
 * (each ends with "\n"), so the file is the header line followed by every chunk's events.
 * `searchText` is what those events printed (and typed, when input is recorded) with terminal
 * escapes removed, prefixed by the end of the previous chunk's text so that a word cut by a chunk
 * boundary is still found. A trigram index answers substring searches on both engines.
 */
export const sshSessionChunks = pgTable(
  "ssh_session_chunks",
  {
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sshSessions.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    events: text("events").notNull(),
    searchText: text("search_text").notNull(),
    /**
     * Whether the trigram index holds the text yet. A recorder behind on fast output writes its
     * chunks unindexed (the index costs far more than the insert) and the search indexer marks
     * them later; searches read unindexed chunks directly (decision 0210).
     */
    searchIndexed: boolean("search_indexed").notNull().default(true),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.sessionId, table.seq] }),
    index("ssh_session_chunks_search_trgm")
      .using("gin", table.searchText.op("gin_trgm_ops"))
      .where(sql`${table.searchIndexed}`),
    index("ssh_session_chunks_unindexed")
      .on(table.sessionId, table.seq)
      .where(sql`not ${table.searchIndexed}`),
  ],
);
