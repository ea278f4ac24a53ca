import { sql } from "drizzle-orm";
import {
  bigint,
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
import { servers } from "./servers.js";

export const INSTANCE_STATES = [
  "creating",
  "running",
  "stopped",
  "restarting",
  "failed",
  "removing",
] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

/** Instance states that count as "running" for the server deletion guard. */
export const LIVE_INSTANCE_STATES = [
  "creating",
  "running",
  "restarting",
] as const satisfies readonly InstanceState[];

/**
 * An Odoo instance on a server (Odoo, PostgreSQL and Mailpit containers). `state` is what users
 * see (creating → running | stopped | restarting | failed → removing) and follows Docker;
 * `desiredState` is what was last asked for, so an exited container reads as `stopped` after a
 * stop and as `failed` otherwise. Secrets (passwords) are never stored here.
 */
export const instances = pgTable(
  "instances",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    serverId: uuid("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "restrict" }),
    name: text("name").notNull(),
    state: text("state").$type<InstanceState>().notNull().default("creating"),
    stateMessage: text("state_message").notNull().default(""),
    desiredState: text("desired_state").$type<"running" | "stopped">().notNull().default("running"),
    odooImage: text("odoo_image").notNull(),
    postgresImage: text("postgres_image").notNull(),
    mailpitImage: text("mailpit_image").notNull(),
    edition: text("edition").$type<"community" | "enterprise">().notNull().default("community"),
    workers: integer("workers").notNull().default(0),
    cpuMillis: integer("cpu_millis").notNull().default(0),
    memoryBytes: bigint("memory_bytes", { mode: "number" }).notNull().default(0),
    environment: jsonb("environment").$type<Record<string, string>>().notNull().default({}),
    basePort: integer("base_port").notNull(),
    retentionDaily: integer("retention_daily").notNull().default(7),
    retentionWeekly: integer("retention_weekly").notNull().default(4),
    retentionMonthly: integer("retention_monthly").notNull().default(6),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    unique("instances_server_name").on(table.serverId, table.name),
    check(
      "instances_state",
      sql`${table.state} in ('creating', 'running', 'stopped', 'restarting', 'failed', 'removing')`,
    ),
    check("instances_desired_state", sql`${table.desiredState} in ('running', 'stopped')`),
    check("instances_edition", sql`${table.edition} in ('community', 'enterprise')`),
  ],
);

/**
 * One allocated block of ten ports on a server (+0 web, +1 longpolling, +2 Mailpit). The primary
 * key makes allocation safe under concurrency: writers insert and retry on conflict. The block is
 * freed with its instance (cascade) and reused by the next allocation.
 */
export const portBlocks = pgTable(
  "port_blocks",
  {
    serverId: uuid("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    basePort: integer("base_port").notNull(),
    instanceId: uuid("instance_id")
      .notNull()
      .unique()
      .references(() => instances.id, { onDelete: "cascade" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.serverId, table.basePort] }),
    check("port_blocks_base_port", sql`${table.basePort} between 1024 and 65525`),
  ],
);

export const BACKUP_KINDS = ["manual", "automatic", "pre_delete", "pre_restore"] as const;
export type BackupKind = (typeof BACKUP_KINDS)[number];
export type BackupState = "pending" | "completed" | "failed";

/**
 * One backup archive (database dump + filestore) in the backup store under `storageKey`. It
 * outlives its instance (instance_id is cleared, name and server stay). `ticketHash` is the
 * SHA-256 of the one-time upload ticket; it is cleared once the upload is stored.
 */
export const backups = pgTable(
  "backups",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    instanceId: uuid("instance_id").references(() => instances.id, { onDelete: "set null" }),
    instanceName: text("instance_name").notNull(),
    serverId: uuid("server_id").notNull(),
    kind: text("kind").$type<BackupKind>().notNull(),
    state: text("state").$type<BackupState>().notNull().default("pending"),
    errorMessage: text("error_message").notNull().default(""),
    storageKey: text("storage_key").notNull(),
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull().default(0),
    sha256: text("sha256").notNull().default(""),
    ticketHash: text("ticket_hash"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp("completed_at", { withTimezone: true }),
  },
  (table) => [
    index("backups_instance").on(table.instanceId, table.createdAt),
    check("backups_kind", sql`${table.kind} in ('manual', 'automatic', 'pre_delete', 'pre_restore')`),
    check("backups_state", sql`${table.state} in ('pending', 'completed', 'failed')`),
  ],
);
