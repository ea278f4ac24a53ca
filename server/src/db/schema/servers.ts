import type { HostFacts } from "@ocore/proto/host-facts.js";
import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { type ServerStatus, serverStatusListSql } from "../../server-status/server-status.js";

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
  ],
);
