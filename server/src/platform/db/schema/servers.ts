import type { HostFacts } from "@ocore/proto/host-facts.js";
import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgTable, real, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { type ServerStatus, serverStatusListSql } from "../../../domain/server-status/server-status.js";

/**
 * A managed Linux host. `status` follows the lifecycle users see (server-status/server-status.ts:
 * connecting → connected → provisioning → active ⇄ offline; failed with `statusReason`; removing). Tags are key=value pairs used by
 * selectors (RBAC scopes, filters, batch targets, alert routing).
 */
export const servers = pgTable(
  "servers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull().unique(),
    host: text("host").notNull().default(""),
    sshPort: integer("ssh_port").notNull().default(22),
    sshUser: text("ssh_user").notNull().default("root"),
    status: text("status").$type<ServerStatus>().notNull().default("connecting"),
    statusReason: text("status_reason"),
    statusMessage: text("status_message"),
    tags: jsonb("tags").$type<Record<string, string>>().notNull().default({}),
    agentVersion: text("agent_version"),
    /** What the agent reported about its host in its last Hello. */
    facts: jsonb("facts").$type<HostFacts>(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }),
    /**
     * The newest sample's CPU, memory and fullest-filesystem usage (percent), copied here with
     * the last-seen time so the fleet list can sort by them through an index; null before any.
     */
    cpuPercent: real("cpu_percent"),
    memoryPercent: real("memory_percent"),
    diskPercent: real("disk_percent"),
    /** The SSH host key pinned on first contact (`SHA256:…` as OpenSSH prints it). */
    hostKeyFingerprint: text("host_key_fingerprint"),
    hostKeyAlgorithm: text("host_key_algorithm"),
    /** A different key the host presented later, refused until an admin accepts it. */
    pendingHostKeyFingerprint: text("pending_host_key_fingerprint"),
    pendingHostKeyAlgorithm: text("pending_host_key_algorithm"),
    /** How the agent is supervised on the host: `systemd` or `supervised`, once installed. */
    installMode: text("install_mode"),
    /** Where the agent is installed and its unit's name (uninstalling needs them). */
    installPrefix: text("install_prefix"),
    unitName: text("unit_name"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    check("servers_status", sql`${table.status} in (${sql.raw(serverStatusListSql())})`),
    check("servers_install_mode", sql`${table.installMode} in ('systemd', 'supervised')`),
    index("servers_tags").using("gin", table.tags),
    // Keyset paging (servers/server-page.ts): each sort key with the name as tie-breaker, on the
    // same expressions the query orders by; trigram indexes for the substring search.
    index("servers_status_name").on(table.status, table.name),
    index("servers_last_seen_name").on(
      sql`coalesce(${table.lastSeenAt}, '-infinity'::timestamptz)`,
      table.name,
    ),
    index("servers_cpu_name").on(sql`coalesce(${table.cpuPercent}, -1)`, table.name),
    index("servers_memory_name").on(sql`coalesce(${table.memoryPercent}, -1)`, table.name),
    index("servers_disk_name").on(sql`coalesce(${table.diskPercent}, -1)`, table.name),
    index("servers_name_trgm").using("gin", table.name.op("gin_trgm_ops")),
    index("servers_host_trgm").using("gin", table.host.op("gin_trgm_ops")),
  ],
);
