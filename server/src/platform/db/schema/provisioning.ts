import { sql } from "drizzle-orm";
import { boolean, check, index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { servers } from "./servers.js";

/** What facts.sh reports about a host over SSH (before any agent runs there). */
export interface ProvisioningFacts {
  readonly hostname: string;
  readonly osId: string;
  readonly osIdLike: string;
  readonly osVersion: string;
  readonly osName: string;
  readonly kernel: string;
  readonly architecture: string;
  readonly cpuCores: number;
  readonly memoryTotalBytes: number;
  /** Free bytes where the agent and Docker's data live. */
  readonly diskAvailableBytes: number;
  readonly diskTotalBytes: number;
  /** Empty when `docker` is not on the user's PATH. */
  readonly dockerVersion: string;
  readonly dockerDaemonAnswers: boolean;
  /** PID 1 is systemd and systemctl exists. */
  readonly systemd: boolean;
  readonly initProcess: string;
  readonly isRoot: boolean;
  readonly passwordlessSudo: boolean;
}

export type VerdictLevel = "pass" | "warn" | "fail";

/** One requirement's outcome, with a sentence the user can act on. */
export interface RequirementVerdict {
  readonly id: string;
  readonly title: string;
  readonly verdict: VerdictLevel;
  readonly message: string;
  /** For a failure: the server's status reason it leads to (e.g. `docker_too_old`). */
  readonly reason?: string;
  /** A failed requirement an admin chose to go ahead without (recorded, never silent). */
  readonly accepted?: boolean;
}

/**
 * SSH credentials of a server, sealed with AES-256-GCM (`sealed` names its key id; the server
 * id is bound as associated data). Never returned by the API; dropped by ForgetCredentials.
 */
export const sshCredentials = pgTable(
  "ssh_credentials",
  {
    serverId: uuid("server_id")
      .primaryKey()
      .references(() => servers.id, { onDelete: "cascade" }),
    kind: text("kind").$type<"password" | "private_key">().notNull(),
    sealed: text("sealed").notNull(),
    keyId: text("key_id").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [check("ssh_credentials_kind", sql`${table.kind} in ('password', 'private_key')`)],
);

export const PROVISIONING_STEPS = [
  "connect",
  "check",
  "install",
  "wait_agent",
  "uninstall",
  "cleanup",
] as const;
export type ProvisioningStep = (typeof PROVISIONING_STEPS)[number];
/** `join`: a host joining by itself (issue 22); its script drives the steps, no worker claims it. */
export type JobKind = "provision" | "remove" | "join";
export type JobState = "pending" | "running" | "succeeded" | "failed";

/**
 * The background work on a server: at most one row per server (its primary key), so there is
 * never more than one job per server. Workers claim a due row with FOR UPDATE SKIP LOCKED and
 * hold it with a lease they renew; a row whose lease ran out (its process died) is claimed
 * again and resumes at `step`. A removal replaces a provisioning job in place.
 */
export const provisioningJobs = pgTable(
  "provisioning_jobs",
  {
    serverId: uuid("server_id")
      .primaryKey()
      .references(() => servers.id, { onDelete: "cascade" }),
    kind: text("kind").$type<JobKind>().notNull(),
    state: text("state").$type<JobState>().notNull().default("pending"),
    step: text("step").$type<ProvisioningStep>().notNull(),
    attempt: integer("attempt").notNull().default(1),
    runAfter: timestamp("run_after", { withTimezone: true }).notNull().defaultNow(),
    leaseOwner: text("lease_owner"),
    leaseExpiresAt: timestamp("lease_expires_at", { withTimezone: true }),
    /** When the agent was installed (an agent Hello after this time completes the job). */
    installedAt: timestamp("installed_at", { withTimezone: true }),
    facts: jsonb("facts").$type<ProvisioningFacts>(),
    verdicts: jsonb("verdicts").$type<RequirementVerdict[]>(),
    /** Requirement ids whose failure an admin accepted. */
    acceptedRequirements: jsonb("accepted_requirements").$type<string[]>().notNull().default([]),
    /** How many Odoo instances the host should hold (scales the memory and disk verdicts). */
    plannedInstances: integer("planned_instances").notNull().default(1),
    /** Removal only: go ahead although instances run. */
    force: boolean("force").notNull().default(false),
    errorReason: text("error_reason"),
    errorMessage: text("error_message"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (table) => [
    check("provisioning_jobs_kind", sql`${table.kind} in ('provision', 'remove', 'join')`),
    check("provisioning_jobs_state", sql`${table.state} in ('pending', 'running', 'succeeded', 'failed')`),
    check(
      "provisioning_jobs_step",
      sql`${table.step} in ('connect', 'check', 'install', 'wait_agent', 'uninstall', 'cleanup')`,
    ),
    index("provisioning_jobs_due").on(table.state, table.runAfter),
  ],
);

/** Every step a job ran, for the API: what, when, and how it ended. */
export const provisioningSteps = pgTable(
  "provisioning_steps",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    serverId: uuid("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    step: text("step").$type<ProvisioningStep>().notNull(),
    status: text("status").$type<"running" | "succeeded" | "failed">().notNull().default("running"),
    message: text("message").notNull().default(""),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
    endedAt: timestamp("ended_at", { withTimezone: true }),
  },
  (table) => [
    check("provisioning_steps_status", sql`${table.status} in ('running', 'succeeded', 'failed')`),
    index("provisioning_steps_server").on(table.serverId, table.startedAt),
  ],
);
