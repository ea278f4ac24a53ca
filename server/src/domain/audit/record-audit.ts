import { createHash } from "node:crypto";
import { desc, sql } from "drizzle-orm";
import { auditLog } from "../../platform/db/schema/audit.js";
import type { Queryable } from "../../platform/db/transaction.js";
import type { AuditContext } from "./audit-context.js";
import { canonicalJson } from "./redact.js";

export type AuditResult = "success" | "failure" | "denied";

export interface AuditEvent {
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string;
  readonly before?: unknown;
  readonly after?: unknown;
  readonly result?: AuditResult;
  readonly detail?: string;
}

export type AuditRow = typeof auditLog.$inferSelect;

/** Serializes writers so that ids stay gapless and each entry links to the one before. */
const AUDIT_CHAIN_LOCK = 0x61756469; // "audi"
export const GENESIS_HASH = "0".repeat(64);

/**
 * Appends one entry. Call it inside the transaction that makes the change, so that there is no
 * change without its record (and no record of a change that rolled back).
 */
export async function recordAudit(
  db: Queryable,
  context: AuditContext,
  event: AuditEvent,
  now: Date = new Date(),
): Promise<AuditRow> {
  const [entry] = await recordAuditBatch(db, context, [event], now);
  if (!entry) throw new Error("the audit entry was not written");
  return entry;
}

/** Entries per INSERT when appending many: well under PostgreSQL's 65,535 bind parameters. */
const ENTRIES_PER_STATEMENT = 1000;

/**
 * Appends several entries, chained in order, taking the chain's lock and reading its head once
 * (a bulk change, e.g. an import, records its entries in a few statements instead of a round
 * trip each). Same transaction rule as recordAudit.
 */
export async function recordAuditBatch(
  db: Queryable,
  context: AuditContext,
  events: readonly AuditEvent[],
  now: Date = new Date(),
): Promise<AuditRow[]> {
  if (events.length === 0) return [];
  await db.execute(sql`select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`);
  const [last] = await db
    .select({ id: auditLog.id, hash: auditLog.hash })
    .from(auditLog)
    .orderBy(desc(auditLog.id))
    .limit(1);
  let id = last?.id ?? 0;
  let previousHash = last?.hash ?? GENESIS_HASH;
  const entries = events.map((event) => {
    id += 1;
    const row = {
      id,
      at: now,
      actorType: storable(context.actor.type),
      actorId: storable(context.actor.id),
      actorName: storable(context.actor.name),
      action: event.action,
      targetType: storable(event.targetType),
      targetId: storable(event.targetId),
      // JSON escapes NUL as \u0000, which a text column stores as it is.
      beforeJson: canonicalJson(event.before ?? null),
      afterJson: canonicalJson(event.after ?? null),
      sourceIp: storable(context.sourceIp),
      userAgent: storable(context.userAgent.slice(0, 512)),
      result: event.result ?? "success",
      detail: storable(event.detail ?? ""),
      previousHash,
    };
    const entry = { ...row, hash: hashAuditEntry(row) };
    previousHash = entry.hash;
    return entry;
  });
  for (let start = 0; start < entries.length; start += ENTRIES_PER_STATEMENT) {
    await db.insert(auditLog).values(entries.slice(start, start + ENTRIES_PER_STATEMENT));
  }
  return entries;
}

/**
 * PostgreSQL text cannot hold NUL; a request that carried one must still be recorded, so NUL
 * is written as U+2400 (the visible "symbol for null").
 */
function storable(text: string): string {
  return text.includes("\0") ? text.replaceAll("\0", "\u2400") : text;
}

/** The hash of an entry: SHA-256 over its fields, in a fixed order, and the previous hash. */
export function hashAuditEntry(row: Omit<AuditRow, "hash">): string {
  const fields = [
    row.id,
    row.at.toISOString(),
    row.actorType,
    row.actorId,
    row.actorName,
    row.action,
    row.targetType,
    row.targetId,
    row.beforeJson,
    row.afterJson,
    row.sourceIp,
    row.userAgent,
    row.result,
    row.detail,
    row.previousHash,
  ];
  return createHash("sha256").update(JSON.stringify(fields)).digest("hex");
}
