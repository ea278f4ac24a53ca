import { sql } from "drizzle-orm";
import { boolean, check, index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

/** Console users. Passwords are argon2id hashes; a one-time password must be changed at first login. */
export const users = pgTable("users", {
  id: uuid("id").primaryKey().defaultRandom(),
  username: text("username").notNull().unique(),
  passwordHash: text("password_hash").notNull(),
  mustChangePassword: boolean("must_change_password").notNull().default(true),
  disabled: boolean("disabled").notNull().default(false),
  failedLogins: integer("failed_logins").notNull().default(0),
  lockedUntil: timestamp("locked_until", { withTimezone: true }),
  passwordChangedAt: timestamp("password_changed_at", { withTimezone: true }).notNull().defaultNow(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Built-in (owner, admin, operator, viewer) and custom roles: named sets of permissions. */
export const roles = pgTable("roles", {
  name: text("name").primaryKey(),
  description: text("description").notNull().default(""),
  permissions: jsonb("permissions").$type<string[]>().notNull(),
  builtin: boolean("builtin").notNull().default(false),
});

/** A role granted to a user, on every server or only on those whose tags match `selector`. */
export const roleBindings = pgTable(
  "role_bindings",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role")
      .notNull()
      .references(() => roles.name),
    selector: text("selector").notNull().default(""),
    /** Host accounts the SSH gateway may log in as under this binding: "*" any; empty: the server's own SSH user. */
    sshLogins: jsonb("ssh_logins").$type<string[]>().notNull().default([]),
  },
  (table) => [index("role_bindings_user").on(table.userId)],
);

/**
 * Refresh tokens, one row per issued token (only its hash). Rotation marks the old row used;
 * presenting a used token again revokes the whole family (a stolen token was replayed).
 */
export const sessions = pgTable(
  "sessions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    familyId: uuid("family_id").notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    rotatedAt: timestamp("rotated_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    sourceIp: text("source_ip").notNull().default(""),
    userAgent: text("user_agent").notNull().default(""),
  },
  (table) => [index("sessions_user").on(table.userId), index("sessions_family").on(table.familyId)],
);

/** Tokens for automation: bound to a role and an optional selector; only the hash is kept. */
export const apiTokens = pgTable(
  "api_tokens",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    prefix: text("prefix").notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    role: text("role")
      .notNull()
      .references(() => roles.name),
    selector: text("selector").notNull().default(""),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    createdByName: text("created_by_name").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (table) => [check("api_tokens_name", sql`length(${table.name}) between 1 and 100`)],
);
