import { pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * The server's own key material, shared by every replica through the database: the agent CA
 * (`agent-ca`) and the agent gateway's TLS certificate (`agent-gateway`). Private keys are
 * sealed with the master key (see pki/secret-box.ts); the envelope names the key id.
 */
export const pkiCertificates = pgTable("pki_certificates", {
  name: text("name").primaryKey(),
  certificatePem: text("certificate_pem").notNull(),
  sealedPrivateKey: text("sealed_private_key").notNull(),
  /** What the certificate was issued for (the gateway's host names), to notice configuration changes. */
  subjectAltNames: text("subject_alt_names").notNull().default(""),
  notAfter: timestamp("not_after", { withTimezone: true }).notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});
