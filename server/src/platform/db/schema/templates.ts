import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from "drizzle-orm/pg-core";
import { commands } from "./commands.js";
import { servers } from "./servers.js";

/**
 * A command template (issue 17): a stable key and its versions. What it runs lives only in
 * command_template_versions, which are never updated except for their review.
 */
export const commandTemplates = pgTable("command_templates", {
  id: uuid("id").primaryKey().defaultRandom(),
  key: text("key").notNull().unique(),
  builtin: boolean("builtin").notNull().default(false),
  /** An ad-hoc command's holder (decision 0231): not listed, its one version approved by policy. */
  adhoc: boolean("adhoc").notNull().default(false),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

export type ReviewState = "pending" | "approved" | "rejected";

/**
 * One immutable version of a template: its definition (script, interpreter, metadata, typed
 * parameters) and the SHA-256 of its canonical JSON. Runnable only once approved by someone
 * other than its author.
 */
export const commandTemplateVersions = pgTable(
  "command_template_versions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    templateId: uuid("template_id")
      .notNull()
      .references(() => commandTemplates.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    hash: text("hash").notNull(),
    definition: jsonb("definition").notNull(),
    authorKind: text("author_kind").notNull(),
    authorId: text("author_id"),
    authorName: text("author_name").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    reviewState: text("review_state").$type<ReviewState>().notNull().default("pending"),
    reviewerId: text("reviewer_id"),
    reviewerName: text("reviewer_name"),
    reviewedAt: timestamp("reviewed_at", { withTimezone: true }),
    reviewNote: text("review_note").notNull().default(""),
  },
  (table) => [
    unique("command_template_versions_number").on(table.templateId, table.version),
    check(
      "command_template_versions_review",
      sql`${table.reviewState} in ('pending', 'approved', 'rejected')`,
    ),
  ],
);

export type RunState = "running" | "paused" | "succeeded" | "failed" | "stopped" | "cancelled";

/**
 * A batch run of one template version: its parameters, its rate control (concurrency and error
 * budget, resolved to host counts) and its state. `leaseOwner`/`leaseUntil` say which replica
 * dispatches it; another one takes it over when the lease lapses (a restart, a crash).
 */
export const commandRuns = pgTable(
  "command_runs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    templateId: uuid("template_id")
      .notNull()
      .references(() => commandTemplates.id),
    versionId: uuid("version_id")
      .notNull()
      .references(() => commandTemplateVersions.id),
    parameters: jsonb("parameters").$type<Record<string, string>>().notNull(),
    concurrency: integer("concurrency").notNull(),
    maxErrors: integer("max_errors").notNull(),
    /** Canary hosts (wave 0 when > 0): any failure among them stops the run (decision 0230). */
    canary: integer("canary").notNull().default(0),
    /** After a successful canary: wait for a human's resume (`paused`) instead of going on. */
    canaryPause: boolean("canary_pause").notNull().default(false),
    /** Hosts per wave, in order (the canary first when there is one); one wave of all when empty. */
    waveSizes: jsonb("wave_sizes").$type<number[]>().notNull().default([]),
    /** The wave whose hosts may start now (earlier waves have ended). */
    wave: integer("wave").notNull().default(0),
    state: text("state").$type<RunState>().notNull().default("running"),
    stopReason: text("stop_reason").notNull().default(""),
    actorKind: text("actor_kind").notNull(),
    actorId: text("actor_id"),
    actorName: text("actor_name").notNull(),
    rerunOf: uuid("rerun_of"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    leaseOwner: text("lease_owner"),
    leaseUntil: timestamp("lease_until", { withTimezone: true }),
  },
  (table) => [
    check(
      "command_runs_state",
      sql`${table.state} in ('running', 'paused', 'succeeded', 'failed', 'stopped', 'cancelled')`,
    ),
    check("command_runs_rate", sql`${table.concurrency} >= 1 and ${table.maxErrors} >= 0`),
    index("command_runs_created").on(table.createdAt.desc()),
    index("command_runs_open").on(table.leaseUntil).where(sql`${table.state} = 'running'`),
  ],
);

export type RunHostState =
  | "pending"
  | "dispatching"
  | "running"
  | "succeeded"
  | "failed"
  | "timed_out"
  | "unreachable"
  | "cancelled"
  | "skipped"
  | "refused";

/**
 * One target host of a run (or a refused one, with its reason). `position` is its dispatch order
 * (0 for refused hosts); `argv`/`env` are what it runs with (the per-host rendering).
 */
export const commandRunHosts = pgTable(
  "command_run_hosts",
  {
    runId: uuid("run_id")
      .notNull()
      .references(() => commandRuns.id, { onDelete: "cascade" }),
    serverId: uuid("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    serverName: text("server_name").notNull(),
    position: integer("position").notNull(),
    /** The wave the host belongs to (0: the canary, or the first wave). */
    wave: integer("wave").notNull().default(0),
    state: text("state").$type<RunHostState>().notNull(),
    reason: text("reason").notNull().default(""),
    argv: jsonb("argv").$type<string[]>().notNull().default([]),
    env: jsonb("env").$type<Record<string, string>>().notNull().default({}),
    commandId: uuid("command_id").references(() => commands.id, { onDelete: "set null" }),
    exitCode: integer("exit_code").notNull().default(0),
    sandbox: text("sandbox").notNull().default(""),
    output: text("output").notNull().default(""),
    outputBytes: integer("output_bytes").notNull().default(0),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    /** The number of failures already counted when this host was dispatched (the budget proof). */
    errorsAtDispatch: integer("errors_at_dispatch"),
  },
  (table) => [
    primaryKey({ columns: [table.runId, table.serverId] }),
    check(
      "command_run_hosts_state",
      sql`${table.state} in ('pending', 'dispatching', 'running', 'succeeded', 'failed', 'timed_out', 'unreachable', 'cancelled', 'skipped', 'refused')`,
    ),
    index("command_run_hosts_order").on(table.runId, table.state, table.position),
    index("command_run_hosts_command").on(table.commandId),
  ],
);
