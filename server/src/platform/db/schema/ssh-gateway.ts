import { index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { servers } from "./servers.js";
import { users } from "./users.js";

/** SSH public keys users log in to the SSH gateway with; a key belongs to one user only. */
export const userSshKeys = pgTable(
  "user_ssh_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    algorithm: text("algorithm").notNull(),
    /** `SHA256:…` as OpenSSH prints it; unique across users. */
    fingerprint: text("fingerprint").notNull().unique(),
    /** The key as one OpenSSH line (`type base64`), without comment. */
    publicKey: text("public_key").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
  },
  (table) => [index("user_ssh_keys_user").on(table.userId)],
);

/**
 * The SSH gateway's own keys, shared by replicas: its host key (`name` = "host") and, per server,
 * the client key it logs in to the host's sshd with (`server_id` set). Private keys are sealed
 * with the master key (pki/secret-box.ts).
 */
export const sshGatewayKeys = pgTable("ssh_gateway_keys", {
  name: text("name").primaryKey(),
  serverId: uuid("server_id").references(() => servers.id, { onDelete: "cascade" }),
  /** `ssh-ed25519 <base64>`. */
  publicKey: text("public_key").notNull(),
  sealedPrivateKey: text("sealed_private_key").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});
